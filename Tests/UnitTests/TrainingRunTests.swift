import Foundation
import TestSupport
import Testing
@testable import MTCore
@testable import MTStorage
@testable import MTAlgorithms
@testable import MTNetwork
@testable import MTCommand

/// The partial/complete checkpoint protocol of `mt-train` (epoch checkpoints beside `-o`, `-o` once at
/// the end, `--resume` from either) and the stop on a non-finite loss or parameter.
@Suite("Training runs: partial checkpoints and divergence", .serialized)
struct TrainingRunTests {
    static let data = CheckpointTests.toyDataset()
    static let set = TrainingSet(indices: Array(0..<64), labels: data.labels, weights: nil)

    static func options(epochs: Int, lr: Double = 0.05) -> ClassifierOptions {
        var settings = CheckpointTests.settings(epochs: epochs)
        settings.lr = lr
        return ClassifierOptions(arch: "mnist-cnn", optimizer: settings, labelSmoothing: 0.1, augmentation: "digits", outputDim: 4)
    }

    static func trainer(_ options: ClassifierOptions, resume: Checkpoint? = nil) throws -> Trainer {
        let network = resume?.network ?? CheckpointTests.freshNetwork(data)
        let views = ImageBatcher(dataset: data, mean: network.inputMean, std: network.inputStd, augmentation: .digits)
        return try Trainer(network: network, objective: CrossEntropyObjective(set: set, views: views, labelSmoothing: 0.1),
                           settings: options.optimizer, resume: resume)
    }

    static func train(_ trainer: Trainer, _ options: ClassifierOptions, output: String,
                      evaluate: (Network) throws -> String = { _ in "" }) throws {
        try Console.$quiet.withValue(true) {
            try TrainingRun.train(trainer, arguments: options.json, classNames: [], output: output, inputs: [], evaluate: evaluate)
        }
    }

    static func resumable(_ output: String, _ options: ClassifierOptions) throws -> Checkpoint? {
        try Console.$quiet.withValue(true) { try TrainingRun.resumable(output, resume: true, options: options) }
    }

    static func parameters(_ network: Network) -> [[Float]] { network.namedParameters().map { $0.1.value } }

    struct Interrupted: Error {}

    @Test func partialPathSitsBesideTheOutput() {
        #expect(Checkpoint.partialPath(of: "runs/model.h5") == "runs/model.partial.h5")
        #expect(Checkpoint.partialPath(of: "model") == "model.partial.h5")
        #expect(Checkpoint.finalPath(ofPartial: "runs/model.partial.h5") == "runs/model.h5")
    }

    @Test func aFinishedRunWritesOnlyTheCompleteOutput() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let options = Self.options(epochs: 2), output = dir + "/model.h5"
            var partialSeenAfter: [Int] = []
            let trainer = try Self.trainer(options)
            try Self.train(trainer, options, output: output) { _ in
                // Before epoch 2's checkpoint is written, epoch 1's is in the partial file and -o is absent.
                if trainer.epoch == 2 {
                    if let partial = try? CheckpointRecord.read(dir + "/model.partial.h5"), !partial.isComplete {
                        partialSeenAfter.append(partial.epoch)
                    }
                    #expect(!fileExists(output))
                }
                return ""
            }
            #expect(partialSeenAfter == [1])
            #expect(TestSupport.files(in: dir) == ["model.h5"])
            let record = try CheckpointRecord.read(output)
            #expect(record.isComplete && record.epoch == 2 && record.iteration == 8)
            #expect(try H5File.open(output).intAttribute("complete") == 1)
        }
    }

    @Test func anInterruptedRunKeepsTheEarlierModelAndResumesFromThePartialFile() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let output = dir + "/model.h5", partial = dir + "/model.partial.h5"
            // A complete model from an earlier run, then a fresh 3-epoch run interrupted after its second epoch.
            try Self.train(try Self.trainer(Self.options(epochs: 1)), Self.options(epochs: 1), output: output)
            let earlier = try CheckpointRecord.read(output)
            let options = Self.options(epochs: 3)
            let interrupted = try Self.trainer(options)
            #expect(throws: Interrupted.self) {
                try Self.train(interrupted, options, output: output) { _ in
                    if interrupted.epoch == 3 { throw Interrupted() }
                    return ""
                }
            }
            let after = try CheckpointRecord.read(output)
            #expect(after.isComplete && after.epoch == 1 && after.state == earlier.state, "the complete model is untouched")
            let left = try CheckpointRecord.read(partial)
            #expect(!left.isComplete && left.epoch == 2 && left.iteration == 8)
            #expect(try H5File.open(partial).intAttribute("complete") == 0)

            // --resume prefers the partial file and finishes as a straight run would.
            let state = try #require(try Self.resumable(output, options))
            #expect(state.epoch == 2 && !state.isComplete)
            let resumed = try Self.trainer(options, resume: state)
            try Self.train(resumed, options, output: output)
            #expect(TestSupport.files(in: dir) == ["model.h5"])
            let straight = try Self.trainer(options)
            while !straight.isFinished { _ = try straight.trainEpoch() }
            let finished = try Checkpoint.loadTrained(output)
            #expect(finished.epoch == 3 && finished.isComplete)
            #expect(Self.parameters(finished.network) == Self.parameters(straight.network))
        }
    }

    @Test func resumeRefusesAPartialFileOfAnotherRunAndStartsFreshWithoutFiles() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let output = dir + "/model.h5"
            #expect(try Self.resumable(output, Self.options(epochs: 2)) == nil)
            let trainer = try Self.trainer(Self.options(epochs: 2))
            _ = try trainer.trainEpoch()
            try trainer.checkpoint(arguments: Self.options(epochs: 2).json, classNames: []).save(dir + "/model.partial.h5", inputs: [])
            #expect(throws: MTError.self) { try Self.resumable(output, Self.options(epochs: 2, lr: 0.1)) }
            #expect(try Self.resumable(output, Self.options(epochs: 4))?.epoch == 1, "epochs may grow")
            // Without a partial file, a complete -o is continued (its epochs grown).
            try FileManager.default.removeItem(atPath: dir + "/model.partial.h5")
            _ = try trainer.trainEpoch()
            try trainer.checkpoint(arguments: Self.options(epochs: 2).json, classNames: []).save(output, inputs: [])
            let complete = try #require(try Self.resumable(output, Self.options(epochs: 4)))
            #expect(complete.epoch == 2 && complete.isComplete)
        }
    }

    @Test func readersOfATrainedModelRefuseAnUnfinishedRun() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let partial = dir + "/model.partial.h5"
            let trainer = try Self.trainer(Self.options(epochs: 2))
            _ = try trainer.trainEpoch()
            let checkpoint = trainer.checkpoint(arguments: "{}", classNames: [])
            #expect(!checkpoint.isComplete)
            try checkpoint.save(partial, inputs: [])
            #expect(try Checkpoint.load(partial).epoch == 1, "--resume still reads it")
            do {
                _ = try Checkpoint.loadTrained(partial)
                Issue.record("an unfinished run was accepted as a trained model")
            } catch let error as MTError {
                #expect(error.kind == .badInput && error.exitCode == 2)
                #expect(error.message.hasPrefix(partial + ": ") && error.message.contains("unfinished training run"))
                #expect(error.message.contains("--resume -o \(dir)/model.h5"), "\(error.message)")
            }
        }
    }

    /// Files written before the attribute existed, and torch2h5 conversions, have no `complete`.
    @Test func aCheckpointWithoutTheAttributeIsComplete() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let path = dir + "/old.h5"
            let record = Checkpoint(network: CheckpointTests.freshNetwork(Self.data), epoch: 3).record
            let file = try H5File.create(path)
            try file.setAttribute("arch", record.architecture)
            try file.setAttribute("output_dim", 4)
            try file.setAttribute("epoch", 3)
            try file.write("/input/mean", record.inputMean)
            try file.write("/input/std", record.inputStd)
            for tensor in record.state {
                if tensor.isCounter {
                    try file.writeScalar("/state/" + tensor.key, Int64(tensor.values[0]))
                } else {
                    try file.write("/state/" + tensor.key, tensor.values, shape: tensor.shape)
                }
            }
            file.close()
            #expect(try H5File.open(path).intAttribute("complete") == nil)
            let loaded = try Checkpoint.loadTrained(path)
            #expect(loaded.isComplete && loaded.epoch == 3)
        }
    }

    static func expectDiverged(_ body: () throws -> Void, mentioning needles: [String],
                               sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            try body()
            Issue.record("training did not stop", sourceLocation: sourceLocation)
        } catch let error as MTError {
            #expect(error.kind == .failure && error.exitCode == 1, sourceLocation: sourceLocation)
            for needle in needles { #expect(error.message.contains(needle), "\(error.message)", sourceLocation: sourceLocation) }
        } catch {
            Issue.record("unexpected \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func aNaNLearningRateStopsAtTheSecondStepAndWritesNoModel() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let options = Self.options(epochs: 2, lr: .nan)
            let trainer = try Self.trainer(options)
            // Step 1's loss is still that of the initial weights; the NaN update shows at step 2.
            Self.expectDiverged({ try Self.train(trainer, options, output: dir + "/model.h5") },
                                mentioning: ["epoch 1/2", "step 2/4", "loss is NaN"])
            #expect(TestSupport.files(in: dir).isEmpty)
        }
    }

    @Test func simclrWithTemperatureZeroStops() throws {
        let options = MetricTrainerTests.options(.simclr)
        var zero = options
        zero.temperature = 0
        let trainer = try MetricTrainerTests.trainer(Self.data, zero, network: MetricTrainerTests.fresh(Self.data, zero))
        Self.expectDiverged({ _ = try trainer.trainEpoch() }, mentioning: ["epoch 1/2", "step 1/4"])
        #expect(trainer.epoch == 0)
    }

    /// A running statistic does not enter the training loss, so only the end-of-epoch check can see it.
    @Test func aNonFiniteBufferStopsAtTheEndOfTheEpoch() throws {
        let trainer = try Self.trainer(Self.options(epochs: 2))
        let buffer = try #require(trainer.network.namedParameters().first { $0.0 == "features.1.running_mean" }?.1)
        buffer.value[0] = .infinity
        Self.expectDiverged({ _ = try trainer.trainEpoch() }, mentioning: ["epoch 1/2", "step 4/4", "features.1.running_mean"])
        #expect(trainer.epoch == 0)
    }
}
