import Foundation
import Testing
@testable import MTCore
@testable import MTStorage
@testable import MTAlgorithms
@testable import MTNetwork
@testable import MTCommand

/// Metric training on a toy data set: a resumed run (network, momentum, memory bank, NCE normaliser from
/// the checkpoint) continues bit-identically, the thread count does not change the result, and the
/// augmentation depends only on seed and stream. These compare bits, so they need the process to
/// themselves: other suites that change `Parallel.threadCount` or OpenBLAS's thread count while these run
/// (Swift Testing runs suites concurrently) can change the rounding of a step.
@Suite("Metric training", .serialized)
struct MetricTrainerTests {
    static func options(_ objective: MetricObjective) -> MetricOptions {
        MetricOptions(arch: "mnist-cnn", objective: objective,
                      optimizer: OptimizerSettings(epochs: 2, batchSize: 16, lr: 0.03, momentum: 0.9, weightDecay: 5e-4,
                                                   nesterov: true, schedule: "cosine", warmupEpochs: 0.5, seed: 5),
                      embeddingDim: 16, negatives: 20, temperature: objective.defaultTemperature, bankMomentum: 0.5,
                      bankInit: "network", normalizer: "batch", augmentation: "digits")
    }

    /// The training loop as `mt-train metric` configures it.
    static func trainer(_ data: ImageDataset, _ options: MetricOptions, network: Network, resume: Checkpoint? = nil) throws -> Trainer {
        try MetricRun.makeTrainer(dataset: data, options: options, augmentation: .digits, network: network, resume: resume)
    }

    static func fresh(_ data: ImageDataset, _ options: MetricOptions) -> Network {
        let (mean, std) = ImageBatcher.channelStatistics(data)
        let network = Network(.mnistCNN, inputChannels: 1, outputDimension: options.embeddingDim, normalizesOutput: true,
                              inputMean: mean, inputStd: std)
        network.initialize(seed: options.optimizer.seed)
        return network
    }

    @Test(arguments: [MetricObjective.instance, .simclr])
    func resumeContinuesExactly(_ objective: MetricObjective) throws {
        let data = CheckpointTests.toyDataset(), options = Self.options(objective)
        let straight = try Self.trainer(data, options, network: Self.fresh(data, options))
        _ = try straight.trainEpoch()
        _ = try straight.trainEpoch()

        let first = try Self.trainer(data, options, network: Self.fresh(data, options))
        _ = try first.trainEpoch()
        let path = CheckpointTests.temporary("metric-resume-\(objective).h5")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try first.checkpoint(arguments: options.json, classNames: []).save(path, inputs: [])
        let saved = try Checkpoint.load(path)
        #expect((saved.memoryBank != nil) == (objective == .instance) && saved.epoch == 1)
        let resumed = try Self.trainer(data, options, network: saved.network, resume: saved)
        _ = try resumed.trainEpoch()
        for ((key, a), (_, b)) in zip(straight.network.namedParameters(), resumed.network.namedParameters()) {
            #expect(a.value == b.value, "\(key) differs after resuming")
        }
        let bank = { (trainer: Trainer) in (trainer.objective as? InstanceDiscriminationObjective)?.bank.values }
        #expect(bank(straight) == bank(resumed))
    }

    @Test(arguments: [MetricObjective.instance, .simclr])
    func trainingDoesNotDependOnTheThreadCount(_ objective: MetricObjective) throws {
        let data = CheckpointTests.toyDataset()
        var options = Self.options(objective)
        options.negatives = 0           // the full softmax: the sgemm path
        options.optimizer.epochs = 1
        var results: [[[Float]]] = []
        for threads in [1, 2] {
            try Parallel.$threadCount.withValue(threads) {
                let trainer = try Self.trainer(data, options, network: Self.fresh(data, options))
                _ = try trainer.trainEpoch()
                results.append(trainer.network.namedParameters().map { $0.1.value })
            }
        }
        #expect(results[0] == results[1], "parameters after one epoch differ between 1 and 2 threads")
    }

    @Test func augmentationIsSeededAndStaysInRange() {
        let data = CheckpointTests.toyDataset()
        let augmenter = MetricAugmenter(dataset: data, mean: [0], std: [1], kind: .digits)
        let a = augmenter.batch([0, 1, 2], seed: 1, stream: 7), b = augmenter.batch([0, 1, 2], seed: 1, stream: 7)
        let c = augmenter.batch([0, 1, 2], seed: 1, stream: 8)
        #expect(a.data == b.data && a.data != c.data && a.shape == [3, 1, 8, 8])
        #expect(a.data.allSatisfy { $0 >= 0 && $0 <= 1 })
        let plain = MetricAugmenter(dataset: data, mean: [0], std: [1], kind: .none).batch([5], seed: 1, stream: 0)
        #expect(plain.data == data.images[(5 * 64)..<(6 * 64)].map { Float($0) / 255 })
    }
}
