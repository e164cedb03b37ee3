import Foundation
import TestSupport
import Testing
@testable import MTCore
@testable import MTStorage
@testable import MTAlgorithms
@testable import MTNetwork
@testable import MTCommand

@Suite("Checkpoints and training", .serialized)
struct CheckpointTests {
    static func temporary(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("mt-\(ProcessInfo.processInfo.processIdentifier)-\(name)").path
    }

    /// 64 random 8x8 gray images in 4 classes (the class sets the mean brightness, so it is learnable).
    static func toyDataset() -> ImageDataset {
        var rng = SeededGenerator(seed: 3)
        let labels = (0..<64).map { Int32($0 % 4) }
        let images = labels.flatMap { label in (0..<64).map { _ in UInt8(min(255, Int(label) * 50 + Int(rng.next() % 60))) } }
        return ImageDataset(images: images, count: 64, height: 8, width: 8, channels: 1, labels: labels,
                            classNames: ["a", "b", "c", "d"], name: "toy")
    }

    static func settings(epochs: Int) -> OptimizerSettings {
        OptimizerSettings(epochs: epochs, batchSize: 16, lr: 0.05, momentum: 0.9, weightDecay: 5e-4, nesterov: true,
                          schedule: "cosine", seed: 11)
    }

    /// The training loop as `mt-train classifier` configures it: weighted, smoothed cross-entropy on
    /// digit-augmented views.
    static func trainer(_ data: ImageDataset, _ set: TrainingSet, epochs: Int, network: Network, resume: Checkpoint? = nil) throws -> Trainer {
        let views = ImageBatcher(dataset: data, mean: network.inputMean, std: network.inputStd, augmentation: .digits)
        return try Trainer(network: network, objective: CrossEntropyObjective(set: set, views: views, labelSmoothing: 0.1),
                           settings: settings(epochs: epochs), resume: resume)
    }

    static func freshNetwork(_ data: ImageDataset) -> Network {
        let (mean, std) = ImageBatcher.channelStatistics(data)
        let network = Network(.mnistCNN, inputChannels: 1, outputDimension: 4, inputMean: mean, inputStd: std)
        network.initialize(seed: 11)
        return network
    }

    @Test func writeThenReadKeepsEveryArrayAndTheOptimiserState() throws {
        let data = Self.toyDataset()
        let trainer = try Self.trainer(data, TrainingSet(indices: Array(0..<64), labels: data.labels, weights: nil),
                                       epochs: 1, network: Self.freshNetwork(data))
        _ = try trainer.trainEpoch()
        let path = Self.temporary("roundtrip.h5")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let written = trainer.checkpoint(arguments: "{}", classNames: data.classNames)
        try written.save(path, inputs: ["toy"])
        let read = try Checkpoint.load(path)
        #expect(read.epoch == 1 && read.iteration == 4 && read.classNames == ["a", "b", "c", "d"])
        #expect(read.network.inputMean == written.network.inputMean && read.network.inputStd == written.network.inputStd)
        for ((key, a), (_, b)) in zip(written.network.namedParameters(), read.network.namedParameters()) {
            #expect(a.value == b.value, "\(key)")
            #expect(written.momentum[key] == read.momentum[key], "momentum \(key)")
        }
        #expect(read.network.namedParameters().first { $0.0 == "features.1.num_batches_tracked" }?.1.value == [4])
    }

    @Test func resumeContinuesExactly() throws {
        let data = Self.toyDataset()
        let set = TrainingSet(indices: Array(0..<64), labels: data.labels, weights: (0..<64).map { 0.5 + Float($0 % 3) * 0.25 })
        let straight = try Self.trainer(data, set, epochs: 2, network: Self.freshNetwork(data))
        _ = try straight.trainEpoch()
        _ = try straight.trainEpoch()

        let first = try Self.trainer(data, set, epochs: 2, network: Self.freshNetwork(data))
        _ = try first.trainEpoch()
        let path = Self.temporary("resume.h5")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try first.checkpoint(arguments: "{}", classNames: []).save(path, inputs: [])
        let saved = try Checkpoint.load(path)
        let resumed = try Self.trainer(data, set, epochs: 2, network: saved.network, resume: saved)
        _ = try resumed.trainEpoch()
        for ((key, a), (_, b)) in zip(straight.network.namedParameters(), resumed.network.namedParameters()) {
            #expect(a.value == b.value, "\(key) differs after resuming")
        }
    }

    @Test func trainingDoesNotDependOnTheThreadCount() throws {
        let data = Self.toyDataset()
        let set = TrainingSet(indices: Array(0..<64), labels: data.labels, weights: nil)
        var results: [[[Float]]] = []
        for threads in [1, 2] {
            try Parallel.$threadCount.withValue(threads) {
                let trainer = try Self.trainer(data, set, epochs: 1, network: Self.freshNetwork(data))
                _ = try trainer.trainEpoch()
                results.append(trainer.network.namedParameters().map { $0.1.value })
            }
        }
        let same = results[0] == results[1]
        #expect(same, "parameters after one epoch differ between 1 and 2 threads")
    }

    @Test func readRefusesAWrongShape() throws {
        let path = Self.temporary("bad.h5")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Checkpoint(network: Network(.mnistCNN, inputChannels: 1, outputDimension: 10)).save(path, inputs: [])
        let file = try H5File.openForUpdate(path)
        try file.write("/state/extra.weight", [Float](repeating: 0, count: 3))
        file.close()
        #expect(throws: MTError.self) { try Checkpoint.load(path) }
    }

    /// torch2h5.py: mt -> PyTorch -> mt gives back every array; needs python with torch and h5py
    /// (`MT_PYTHON`, the repository's `.venv`, else `python3`).
    @Test(.needsTorch) func torch2h5RoundTrip() throws {
        let python = try #require(TestSupport.pythonWithTorch)
        func runPython(_ arguments: [String]) throws -> Int32 {
            try TestSupport.execute(python, arguments).status
        }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("pipelines/tools/torch2h5.py").path
        let original = Self.temporary("orig.h5"), pth = Self.temporary("model.pth"), back = Self.temporary("back.h5")
        defer { for path in [original, pth, back] { try? FileManager.default.removeItem(atPath: path) } }
        let network = Network(.wrn28x2, inputChannels: 3, outputDimension: 128, normalizesOutput: true,
                              inputMean: [0.4, 0.5, 0.6], inputStd: [0.2, 0.25, 0.3])
        network.initialize(seed: 5)
        try Checkpoint(network: network).save(original, inputs: [])
        #expect(try runPython([script, "to-torch", original, "-o", pth]) == 0)
        #expect(try runPython([script, "to-h5", pth, "--arch", "wrn-28-2", "--norm", "--mean", "0.4", "0.5", "0.6",
                               "--std", "0.2", "0.25", "0.3", "-o", back]) == 0)
        let restored = try Checkpoint.load(back).network
        #expect(restored.normalizesOutput && restored.outputDimension == 128)
        for ((key, a), (_, b)) in zip(network.namedParameters(), restored.namedParameters()) {
            #expect(a.value == b.value, "\(key)")
        }
    }
}
