import Foundation
import MTCore
import MTStorage
import Testing
import TestSupport

/// The built `mt-train` and the readers of its models: epoch checkpoints in OUT.partial.h5 until the run is
/// done, a killed run resumed to the parameters of a straight run, unfinished runs refused as models, a
/// diverging run stopped, and every numeric option checked against its range.
@Suite struct TrainingToolTests {
    /// Options out of range: each exits 2 with one line naming the option, before any file is read.
    @Test func numericOptionsOutOfRangeAreUsageErrors() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let classifier = ["classifier", dir + "/train.h5", "--arch", "mnist-cnn"]
            let metric = ["metric", dir + "/train.h5", "--arch", "mnist-cnn"]
            let cases: [(tool: String, arguments: [String], needle: String)] = [
                ("mt-train", classifier + ["--batch-size", "0"], "--batch-size must be >= 1, got 0"),
                ("mt-train", classifier + ["--epochs", "0"], "--epochs must be >= 1"),
                ("mt-train", classifier + ["--iterations", "0"], "--iterations must be >= 1"),
                ("mt-train", classifier + ["--lr", "nan"], "--lr must be > 0"),
                ("mt-train", classifier + ["--lr", "0"], "--lr must be > 0"),
                ("mt-train", classifier + ["--lr=-0.1"], "--lr must be > 0"),
                ("mt-train", classifier + ["--lr", "inf"], "--lr must be > 0"),
                ("mt-train", classifier + ["--momentum", "1"], "--momentum must be in [0, 1)"),
                ("mt-train", classifier + ["--momentum=-0.5"], "--momentum must be in [0, 1)"),
                ("mt-train", classifier + ["--weight-decay=-1e-4"], "--weight-decay must be >= 0"),
                ("mt-train", classifier + ["--weight-decay", "nan"], "--weight-decay must be >= 0"),
                ("mt-train", classifier + ["--warmup=-1"], "--warmup must be >= 0"),
                ("mt-train", classifier + ["--label-smoothing", "1"], "--label-smoothing must be in [0, 1)"),
                ("mt-train", classifier + ["--output-dim", "0"], "--output-dim must be >= 1"),
                ("mt-train", classifier + ["--schedule", "linear"], "--schedule"),
                ("mt-train", metric + ["--batch-size", "1"], "--batch-size must be >= 2"),
                ("mt-train", metric + ["--epochs", "0"], "--epochs must be >= 1"),
                ("mt-train", metric + ["--lr", "nan"], "--lr must be > 0"),
                ("mt-train", metric + ["--warmup", "nan"], "--warmup must be >= 0"),
                ("mt-train", metric + ["--embedding-dim", "0"], "--embedding-dim must be >= 1"),
                ("mt-train", metric + ["--negatives=-1"], "--negatives must be >= 0"),
                ("mt-train", metric + ["--objective", "simclr", "--temperature", "0"], "--temperature must be > 0"),
                ("mt-train", metric + ["--temperature", "nan"], "--temperature must be > 0"),
                ("mt-train", metric + ["--bank-momentum", "1.5"], "--bank-momentum must be in [0, 1]"),
                ("mt-train", ["benchmark", "--arch", "mnist-cnn", "--size", "2"], "--size must be >= 4"),
                ("mt-train", ["benchmark", "--arch", "mnist-cnn", "--channels", "0"], "--channels must be >= 1"),
                ("mt-train", ["benchmark", "--arch", "mnist-cnn", "--train-steps", "0"], "--train-steps must be >= 1"),
                ("mt-train", ["benchmark", "--arch", "mnist-cnn", "--infer-batches", "0"], "--infer-batches must be >= 1"),
                ("mt-eval", ["model", dir + "/model.h5", dir + "/test.h5", "--batch-size", "0"], "--batch-size must be >= 1"),
            ]
            for (tool, arguments, needle) in cases {
                let output = tool == "mt-train" && arguments[0] != "benchmark" ? dir + "/model.h5" : nil
                try expectRefused(tool, arguments, in: dir, output: output, mentioning: needle)
            }
        }
    }

    @Test func theHelpStatesTheRanges() throws {
        let help = try TestSupport.run("mt-train", ["metric", "--help"]).stdout
        for range in ["Epochs (>= 1)", "Mini-batch size (>= 2", "(> 0)", "(in [0, 1))", "(in [0, 1])"] {
            #expect(help.contains(range), "\(range)")
        }
        #expect(try TestSupport.run("mt-eval", ["model", "--help"]).stdout.contains("Inference batch size (>= 1)"))
    }

    static func importTrain(_ mnist: String, _ dir: String, limit: Int) throws -> String {
        let train = dir + "/train.h5"
        let imported = try TestSupport.run("mt-features", ["import", "mnist", mnist, "--split", "train", "--limit", "\(limit)", "-q", "-o", train])
        #expect(imported.status == 0, "\(imported.stderr)")
        return train
    }

    /// Directory contents apart from the temporary file a SIGKILL may catch mid-write (nothing can remove it).
    static func files(in dir: String) -> [String] {
        TestSupport.files(in: dir).filter { !$0.hasSuffix(".tmp") }
    }

    /// A run killed (SIGKILL, as make's was) after an epoch checkpoint keeps the earlier complete model,
    /// leaves a partial file the readers of models refuse, and `--resume` finishes it with the parameters
    /// of a straight run.
    @Test(.needsMNIST) func aKilledRunResumesToTheParametersOfAStraightRun() throws {
        let mnist = try #require(TestSupport.mnistDirectory)
        try TestSupport.withTemporaryDirectory { dir in
            let train = try Self.importTrain(mnist, dir, limit: 128)
            let model = dir + "/model.h5", partial = dir + "/model.partial.h5"
            let arguments = ["classifier", train, "--arch", "mnist-cnn", "--batch-size", "32", "--seed", "3", "-q"]

            let earlier = try TestSupport.run("mt-train", arguments + ["--epochs", "1", "-o", model])
            #expect(earlier.status == 0, "\(earlier.stderr)")
            #expect(Self.files(in: dir) == ["model.h5", "train.h5"], "a finished run leaves no partial file")
            let earlierModel = try CheckpointRecord.read(model)
            #expect(earlierModel.isComplete && earlierModel.epoch == 1)
            #expect(try H5File.open(model).intAttribute("complete") == 1)

            // A fresh 3-epoch run, killed once its first epoch checkpoint is in place.
            let process = Process()
            process.executableURL = URL(fileURLWithPath: TestSupport.binDirectory + "/mt-train")
            process.arguments = arguments + ["--epochs", "3", "-o", model]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            while process.isRunning && !fileExists(partial) { usleep(5_000) }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            try #require(process.terminationReason == .uncaughtSignal, "the run ended before it could be interrupted")

            let kept = try CheckpointRecord.read(model)
            #expect(kept.isComplete && kept.epoch == 1 && kept.state == earlierModel.state, "the earlier model is untouched")
            let left = try CheckpointRecord.read(partial)
            #expect(!left.isComplete && (1...2).contains(left.epoch))
            #expect(try H5File.open(partial).intAttribute("complete") == 0)

            // Readers of a trained model refuse the unfinished run and say how to finish it.
            try expectRefused("mt-eval", ["model", partial, train], in: dir,
                              mentioning: "is an unfinished training run (complete = 0, stopped after epoch")
            try expectRefused("mt-features", ["extract", train, "--model", partial], in: dir, output: dir + "/f.h5",
                              mentioning: "--resume -o \(model)")
            try expectRefused("mt-train", ["classifier", train, "--arch", "mnist-cnn", "--init", partial, "--epochs", "1"],
                              in: dir, output: dir + "/ft.h5", mentioning: "); finish it with the same command and --resume: mt-train")

            let resumed = try TestSupport.run("mt-train", arguments.filter { $0 != "-q" } + ["--epochs", "3", "--resume", "-o", model])
            #expect(resumed.status == 0, "\(resumed.stderr)")
            #expect(resumed.stderr.contains("resuming the unfinished run in \(partial)"), "\(resumed.stderr)")
            #expect(Self.files(in: dir) == ["model.h5", "train.h5"])

            let straight = try TestSupport.run("mt-train", arguments + ["--epochs", "3", "-o", dir + "/straight.h5"])
            #expect(straight.status == 0, "\(straight.stderr)")
            let finished = try CheckpointRecord.read(model), reference = try CheckpointRecord.read(dir + "/straight.h5")
            #expect(finished.isComplete && finished.epoch == 3 && finished.iteration == reference.iteration)
            #expect(finished.state == reference.state, "resumed parameters differ from a straight run's")
            #expect(finished.momentum == reference.momentum)
            let evaluated = try TestSupport.run("mt-eval", ["model", model, train])
            #expect(evaluated.status == 0, "\(evaluated.stderr)")
        }
    }

    /// A learning rate in range that still blows up: exit 1 naming the epoch and step, no model written.
    @Test(.needsMNIST) func aDivergingRunStopsAndWritesNoModel() throws {
        let mnist = try #require(TestSupport.mnistDirectory)
        try TestSupport.withTemporaryDirectory { dir in
            let train = try Self.importTrain(mnist, dir, limit: 64)
            let result = try TestSupport.run("mt-train", ["classifier", train, "--arch", "mnist-cnn", "--batch-size", "16",
                                                          "--epochs", "2", "--lr", "1e30", "-q", "-o", dir + "/model.h5"])
            #expect(result.status == 1, "\(result.stderr)")
            let lines = result.stderr.split(separator: "\n")
            #expect(lines.count == 1 && result.stderr.hasPrefix("mt-train: training diverged at epoch 1/2, step "), "\(result.stderr)")
            #expect(result.stderr.hasSuffix("(try a smaller learning rate)\n"), "\(result.stderr)")
            #expect(Self.files(in: dir) == ["train.h5"])
        }
    }
}
