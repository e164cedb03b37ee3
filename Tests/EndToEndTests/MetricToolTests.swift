import Foundation
import MTCore
import MTStorage
import Testing
import TestSupport

/// Runs the built `mt-train metric` for one short epoch on a real MNIST subset, resumes it, and embeds the
/// data with the checkpoint.
@Suite struct MetricToolTests {
    @Test(.needsMNIST) func instanceDiscriminationEpochCheckpointResumeAndFeatures() throws {
        let mnist = try #require(TestSupport.mnistDirectory)
        try TestSupport.withTemporaryDirectory { dir in
            let train = dir + "/train.h5", test = dir + "/test.h5", checkpoint = dir + "/metric.h5"
            #expect(try TestSupport.run("mt-features", ["import", "mnist", mnist, "--split", "train", "--limit", "320", "-q", "-o", train]).status == 0)
            #expect(try TestSupport.run("mt-features", ["import", "mnist", mnist, "--split", "test", "--limit", "100", "-q", "-o", test]).status == 0)
            let arguments = ["metric", train, "--arch", "mnist-cnn", "--objective", "instance", "--negatives", "256",
                             "--batch-size", "64", "--eval", test, "-o", checkpoint]
            let first = try TestSupport.run("mt-train", arguments + ["--epochs", "1"])
            #expect(first.status == 0, "\(first.stderr)")
            // The epoch line carries the monitor: 200-NN accuracy and mean pairwise cosine.
            #expect(first.stderr.contains("epoch 1/1") && first.stderr.contains("knn200") && first.stderr.contains(" cos "), "\(first.stderr)")
            var state = try CheckpointRecord.read(checkpoint)
            #expect(state.epoch == 1 && state.iteration == 5)
            #expect(state.memoryBank?.count == 320 * 128 && state.nceNormalizer != nil)
            #expect(TestSupport.files(in: dir) == ["metric.h5", "test.h5", "train.h5"], "no temporaries left")

            let resumed = try TestSupport.run("mt-train", arguments + ["--epochs", "2", "--resume"])
            #expect(resumed.status == 0, "\(resumed.stderr)")
            state = try CheckpointRecord.read(checkpoint)
            #expect(state.epoch == 2 && state.iteration == 10)
            let changed = try TestSupport.run("mt-train", arguments + ["--epochs", "3", "--resume", "--lr", "0.1"])
            #expect(changed.status == 2 && changed.stderr.contains("same options"), "\(changed.stderr)")

            let extracted = try TestSupport.run("mt-features", ["extract", test, "--model", checkpoint, "--layer", "output",
                                                                "-q", "-o", dir + "/features.h5"])
            #expect(extracted.status == 0, "\(extracted.stderr)")
            let features = try Features.read(dir + "/features.h5")
            #expect(features.dimension == 128 && features.count == 100 && features.normalized)
            for row in 0..<features.count {
                var norm: Float = 0
                for j in 0..<128 { norm += features.values[row * 128 + j] * features.values[row * 128 + j] }
                #expect(abs(norm - 1) < 1e-4)
            }
            // Streamed in blocks of one inference batch (512 of 1100 images, --memory 1K) or whole: the same file contents.
            let more = dir + "/more.h5"
            #expect(try TestSupport.run("mt-features", ["import", "mnist", mnist, "--split", "train", "--limit", "1100", "-q", "-o", more]).status == 0)
            for (name, memory) in [("whole", "1G"), ("blocks", "1K")] {
                let run = try TestSupport.run("mt-features", ["extract", more, "--model", checkpoint, "--memory", memory, "-q", "-o", dir + "/\(name).h5"])
                #expect(run.status == 0, "\(run.stderr)")
            }
            let (whole, blocks) = (try Features.read(dir + "/whole.h5"), try Features.read(dir + "/blocks.h5"))
            #expect(whole.count == 1100 && whole.values == blocks.values && whole.labels == blocks.labels && whole.model == blocks.model)
            // --shard i/n and merge: the same rows again; merge refuses an incomplete set.
            for i in 0..<3 {
                let run = try TestSupport.run("mt-features", ["extract", more, "--model", checkpoint, "--shard", "\(i)/3", "-q", "-o", dir + "/part\(i).h5"])
                #expect(run.status == 0, "\(run.stderr)")
            }
            let merged = try TestSupport.run("mt-features", ["merge", dir + "/part1.h5", dir + "/part0.h5", dir + "/part2.h5", "-q", "-o", dir + "/merged.h5"])
            #expect(merged.status == 0, "\(merged.stderr)")
            let mergedFeatures = try Features.read(dir + "/merged.h5")
            #expect(mergedFeatures.values == whole.values && mergedFeatures.labels == whole.labels)
            try expectRefused("mt-features", ["merge", dir + "/part0.h5", dir + "/part2.h5"], in: dir, output: dir + "/out.h5", mentioning: "shards 1/3 of")
            try expectRefused("mt-features", ["extract", more, "--model", "pca:4", "--shard", "0/2"], in: dir, output: dir + "/out.h5",
                              mentioning: "--shard applies to a network --model")
        }
    }

    @Test(.needsMNIST) func simclrAndSupervisedObjectivesTrain() throws {
        let mnist = try #require(TestSupport.mnistDirectory)
        try TestSupport.withTemporaryDirectory { dir in
            let train = dir + "/train.h5"
            #expect(try TestSupport.run("mt-features", ["import", "mnist", mnist, "--split", "train", "--limit", "128", "-q", "-o", train]).status == 0)
            for objective in ["simclr", "supervised"] {
                let result = try TestSupport.run("mt-train", ["metric", train, "--arch", "mnist-cnn", "--objective", objective,
                                                              "--batch-size", "32", "--epochs", "1", "-o", dir + "/\(objective).h5"])
                #expect(result.status == 0, "\(result.stderr)")
                let checkpoint = try CheckpointRecord.read(dir + "/\(objective).h5")
                #expect(checkpoint.outputDimension == (objective == "simclr" ? 128 : 10))
                #expect(checkpoint.normalizesOutput == (objective == "simclr"))
            }
        }
    }
}
