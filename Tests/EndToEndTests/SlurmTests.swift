import Foundation
import MTCore
import MTStorage
import Testing
import TestSupport

/// The sharded graph stage through a real scheduler: a one-node Slurm cluster started here by the
/// repository's own script (and stopped after), the pipeline's `SHARDS=3 SUBMIT=slurm` submitting the
/// shards as one job array, and the merged graph equal, array for array, to the local unsharded run.
@Suite(.serialized) struct SlurmTests {
    static let script = TestSupport.repositoryRoot + "/pipelines/tools/slurm-local.sh"

    @Test(.needsSlurm, .needsMNIST) func shardedGraphThroughSbatchEqualsTheLocalRun() throws {
        let mnist = try #require(TestSupport.mnistDirectory)
        // Short state path: munge's socket lives there and Unix sockets allow about 100 characters.
        let state = "/tmp/mt-slurm-test-\(getpid())"
        let environment = ["MT_SLURM_STATE": state, "MT_SLURM_PORT": "17817"]
        let started = try TestSupport.execute(Self.script, ["start"], environment: environment)
        defer {
            _ = try? TestSupport.execute(Self.script, ["stop"], environment: environment)
            try? FileManager.default.removeItem(atPath: state)
        }
        try #require(started.status == 0, "\(started.stdout)\(started.stderr)")
        try TestSupport.withTemporaryDirectory { out in
            func make(_ variables: [String], into root: String) throws -> ToolResult {
                try TestSupport.execute("/usr/bin/env", ["make", "--no-print-directory", "-f", TestSupport.repositoryRoot + "/pipelines/mnist.mk",
                                                         "MT_BIN=\(TestSupport.binDirectory)", "MNIST_DIR=\(mnist)", "OUT=\(root)", "LIMIT=1000",
                                                         "graph"] + variables,
                                        environment: ["SLURM_CONF": state + "/slurm.conf"])
            }
            let local = try make([], into: out + "/local")
            #expect(local.status == 0, "\(local.stderr)")
            let sharded = try make(["SHARDS=3", "SUBMIT=slurm"], into: out + "/slurm")
            #expect(sharded.status == 0, "\(sharded.stdout)\(sharded.stderr)")
            #expect(sharded.stdout.contains("sbatch --wait --quiet --array=0-$(( 3 - 1 ))"), "\(sharded.stdout)")
            let graph = "/mnist-first1000/pca50/graph-k20.h5"
            let (a, b) = (try KNNGraph.read(out + "/local" + graph), try KNNGraph.read(out + "/slurm" + graph))
            #expect(a.count == 1000 && a.neighbors == b.neighbors && a.similarities == b.similarities)
            // The shards and job logs are gone; only the merged graph and its command record stay.
            let left = TestSupport.files(in: out + "/slurm/mnist-first1000/pca50")
            #expect(!left.contains { $0.contains("shard") || $0.contains("slurm-") }, "\(left)")
        }
    }
}
