import Foundation
import MTCore
import MTStorage
import Testing
import TestSupport

/// The sharded stages through a real scheduler: a one-node Slurm cluster started here by the repository's
/// own script (and stopped after), the pipeline's `SHARDS=3 SUBMIT=slurm` submitting the embedding and the
/// graph as job arrays, and the merged features and graph equal, array for array, to the local unsharded run.
@Suite(.serialized) struct SlurmTests {
    static let script = TestSupport.repositoryRoot + "/pipelines/tools/slurm-local.sh"

    @Test(.needsSlurm, .needsMNIST) func shardedExtractAndGraphThroughSbatchEqualTheLocalRun() throws {
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
                                                         "METRIC=simclr", "METRIC_EPOCHS=1", "graph"] + variables,
                                        environment: ["SLURM_CONF": state + "/slurm.conf"])
            }
            let local = try make([], into: out + "/local")
            #expect(local.status == 0, "\(local.stderr)")
            let sharded = try make(["SHARDS=3", "SUBMIT=slurm"], into: out + "/slurm")
            #expect(sharded.status == 0, "\(sharded.stdout)\(sharded.stderr)")
            #expect(sharded.stdout.contains("sbatch --wait --quiet --array=0-$(( 3 - 1 ))"), "\(sharded.stdout)")
            let stage = "/mnist-first1000/simclr-mnist-cnn-e1"
            let (f, g) = (try Features.read(out + "/local" + stage + "/features-train.h5"), try Features.read(out + "/slurm" + stage + "/features-train.h5"))
            #expect(f.count == 1000 && f.values == g.values && f.labels == g.labels)
            let (a, b) = (try KNNGraph.read(out + "/local" + stage + "/graph-k20.h5"), try KNNGraph.read(out + "/slurm" + stage + "/graph-k20.h5"))
            #expect(a.count == 1000 && a.neighbors == b.neighbors && a.similarities == b.similarities)
            // The shards and job logs are gone; only the merged files and their command records stay.
            let left = TestSupport.files(in: out + "/slurm" + stage)
            #expect(!left.contains { $0.contains("shard") || $0.contains("slurm-") }, "\(left)")
        }
    }
}
