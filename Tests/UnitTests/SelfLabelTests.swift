import Foundation
import Testing
@testable import MTCore
@testable import MTStorage
@testable import MTAlgorithms
@testable import MTNetwork
@testable import MTCommand

/// Self-labelling on a synthetic data set of three well-separated patterns: with K = 3 the loop recovers the
/// classes without seeing a label, every Sinkhorn assignment equipartitions each head, and a resumed run
/// (extra heads, their momentum and every head's labels from the checkpoint) continues bit for bit.
@Suite("Self-labelling", .serialized)
struct SelfLabelTests {
    /// 90 gray 28 x 28 images: class c is a bright 10 x 10 square at one of three places, plus noise.
    static func patterns() -> ImageDataset {
        var rng = SeededGenerator(seed: 12)
        var images: [UInt8] = []
        let corners = [(2, 2), (16, 16), (2, 16)]
        for i in 0..<90 {
            let (y0, x0) = corners[i % 3]
            for y in 0..<28 {
                for x in 0..<28 {
                    let inside = (y0..<(y0 + 10)).contains(y) && (x0..<(x0 + 10)).contains(x)
                    images.append(UInt8(min(255, (inside ? 200 : 20) + Int(rng.next() % 40))))
                }
            }
        }
        return ImageDataset(images: images, count: 90, height: 28, width: 28, channels: 1, labels: (0..<90).map { Int32($0 % 3) },
                            classNames: ["a", "b", "c"], name: "patterns")
    }

    static func options(epochs: Int) -> MetricOptions {
        var options = MetricOptions(arch: "mnist-cnn", objective: .selflabel,
                                    optimizer: OptimizerSettings(epochs: epochs, batchSize: 15, lr: 0.05, momentum: 0.9, weightDecay: 5e-4,
                                                                 nesterov: true, schedule: "cosine", seed: 3),
                                    embeddingDim: 128, negatives: 0, temperature: 0.07, bankMomentum: 0.5, bankInit: "network",
                                    normalizer: "batch", augmentation: "digits")
        (options.clusters, options.heads, options.labelUpdates, options.sinkhornLambda) = (3, 2, 4, 25)
        return options
    }

    static func fresh(_ data: ImageDataset) -> Network {
        let (mean, std) = ImageBatcher.channelStatistics(data)
        let network = Network(.mnistCNN, inputChannels: 1, outputDimension: 3, inputMean: mean, inputStd: std)
        network.initialize(seed: 3)
        return network
    }

    @Test func recoversThePatternsAndEquipartitionsEveryHead() throws {
        let data = Self.patterns(), options = Self.options(epochs: 8)
        let trainer = try MetricRun.makeTrainer(dataset: data, options: options, augmentation: .digits, network: Self.fresh(data), resume: nil)
        let objective = try #require(trainer.objective as? SelfLabelObjective)
        #expect(objective.updateSteps(total: trainer.totalSteps) == [0, 12, 24, 36], "4 updates over 48 steps, the first at the start")
        try trainer.run { _ in }
        objective.assignLabels(trainer.network)
        for (h, marginal) in objective.lastMarginals.enumerated() {
            #expect(marginal.allSatisfy { abs($0 - 1.0 / 3) < 1e-4 }, "head \(h): Sinkhorn marginals \(marginal)")
        }
        let clusters = ModelPrediction().pseudoLabels(trainer.network, on: data).labels
        let metrics = ClusteringMetrics(assignments: clusters, truth: data.labels, clusters: 3, classes: 3)
        #expect(metrics.hungarianAccuracy >= 0.95, "clustering accuracy \(metrics.hungarianAccuracy), NMI \(metrics.nmi)")
    }

    @Test func resumeContinuesExactly() throws {
        let data = Self.patterns(), options = Self.options(epochs: 2)
        let straight = try MetricRun.makeTrainer(dataset: data, options: options, augmentation: .digits, network: Self.fresh(data), resume: nil)
        try straight.run { _ in }
        let first = try MetricRun.makeTrainer(dataset: data, options: options, augmentation: .digits, network: Self.fresh(data), resume: nil)
        _ = try first.trainEpoch()
        let path = CheckpointTests.temporary("selflabel-resume.h5")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try first.checkpoint(arguments: options.json, classNames: []).save(path, inputs: [])
        let saved = try Checkpoint.load(path)
        #expect(saved.trainingState["selflabel.labels1"]?.count == 90 && saved.trainingState["momentum.selflabel.head1.weight"] != nil)
        let resumed = try MetricRun.makeTrainer(dataset: data, options: options, augmentation: .digits, network: saved.network, resume: saved,
                                                output: path)
        try resumed.run { _ in }
        for ((key, a), (_, b)) in zip(straight.network.namedParameters(), resumed.network.namedParameters()) {
            #expect(a.value == b.value, "\(key) differs after resuming")
        }
        let labels = { (trainer: Trainer) in (trainer.objective as? SelfLabelObjective)?.labels }
        #expect(labels(straight) == labels(resumed))
    }
}
