import MTCore

/// Augmented training views of data-set rows as a normalised [B, C, H, W] batch: sample `position` of a
/// batch draws from RNG stream (seed, stream + position), so a batch is the same for any thread count.
public protocol AugmentedViews {
    func views(_ indices: [Int], seed: UInt64, stream: UInt64) -> Tensor
}

extension ImageBatcher: AugmentedViews {
    public func views(_ indices: [Int], seed: UInt64, stream: UInt64) -> Tensor { batch(indices, seed: seed, stream: stream) }
}

extension MetricAugmenter: AugmentedViews {
    public func views(_ indices: [Int], seed: UInt64, stream: UInt64) -> Tensor { batch(indices, seed: seed, stream: stream) }
}

/// The samples a classifier learns from: data-set rows, their (pseudo-)labels and training weights.
public struct TrainingSet: Sendable {
    public var indices: [Int]
    public var labels: [Int32]
    public var weights: [Float]?
    /// Soft targets [M, K]: each sample's class distribution, trained towards instead of its label.
    public var distributions: [Float]?

    public init(indices: [Int], labels: [Int32], weights: [Float]?) {
        precondition(indices.count == labels.count && (weights?.count ?? indices.count) == indices.count)
        self.indices = indices
        self.labels = labels
        self.weights = weights
    }

    /// Every sample with a known label (>= 0), weight 1.
    public static func labeled(_ labels: [Int32]) -> TrainingSet {
        let indices = labels.indices.filter { labels[$0] >= 0 }
        return TrainingSet(indices: indices, labels: indices.map { labels[$0] }, weights: nil)
    }
}

/// Weighted, label-smoothed cross-entropy on a training set: classifier training and finetuning, and the
/// supervised metric (metric transfer from another data set's labels); against the set's soft targets
/// at `softTemperature` when it has them (a distilled student).
public final class CrossEntropyObjective: TrainingObjective {
    public let set: TrainingSet
    public let views: any AugmentedViews
    public let softTemperature: Double
    private let loss: CrossEntropyLoss

    public init(set: TrainingSet, views: any AugmentedViews, labelSmoothing: Double = 0, softTemperature: Double = 1) {
        self.set = set
        self.views = views
        self.softTemperature = softTemperature
        loss = CrossEntropyLoss(labelSmoothing: Float(labelSmoothing))
    }

    public var sampleCount: Int { self.set.indices.count }

    public func step(_ network: Network, positions: [Int], augmentationSeed: UInt64, stream: UInt64, iteration: Int) -> StepOutcome {
        let targets = positions.map { set.labels[$0] }
        let weights = set.weights.map { w in positions.map { w[$0] } }
        let output = network.forward(views.views(positions.map { set.indices[$0] }, seed: augmentationSeed, stream: stream), training: true)
        let result: LossResult
        if let distributions = set.distributions {
            let k = output.sampleSize
            let q = positions.flatMap { distributions[($0 * k)..<(($0 + 1) * k)] }
            result = loss(output, distributions: q, weights: weights, temperature: softTemperature)
        } else {
            result = loss(output, targets: targets, weights: weights)
        }
        network.backwardParameters(result.gradient)
        let predicted = output.rowArgmax()
        return StepOutcome(loss: result.loss, correct: zip(predicted, targets).filter { $0 == Int($1) }.count)
    }

    public func save(into checkpoint: inout Checkpoint) {}
}

/// Instance discrimination (Wu et al. 2018): every image its own class against a memory bank of all N
/// embeddings, NCE with K noise rows (or the full softmax), the bank updated with momentum after each step.
public final class InstanceDiscriminationObjective: TrainingObjective {
    public let bank: MemoryBank
    public let views: any AugmentedViews
    public private(set) var nce: NCELoss
    /// Seeds the NCE noise draws (with the iteration).
    private let seed: UInt64

    public init(bank: MemoryBank, views: any AugmentedViews, nce: NCELoss, seed: UInt64) {
        self.bank = bank
        self.views = views
        self.nce = nce
        self.seed = seed
    }

    public var sampleCount: Int { bank.count }

    public func step(_ network: Network, positions: [Int], augmentationSeed: UInt64, stream: UInt64, iteration: Int) -> StepOutcome {
        let output = network.forward(views.views(positions, seed: augmentationSeed, stream: stream), training: true)
        let result = nce(output, indices: positions, bank: bank, seed: seed, step: UInt64(iteration))
        network.backwardParameters(result.gradient)
        bank.update(indices: positions, embeddings: output)
        return StepOutcome(loss: result.loss)
    }

    public func save(into checkpoint: inout Checkpoint) {
        checkpoint.memoryBank = bank.values
        checkpoint.nceNormalizer = nce.normalizer
    }
}

/// SimCLR (Chen et al. 2020): two augmented views of every image in the batch, in-batch NT-Xent.
public final class SimCLRObjective: TrainingObjective {
    public let sampleCount: Int
    public let views: any AugmentedViews
    private let loss: NTXentLoss

    public init(sampleCount: Int, views: any AugmentedViews, temperature: Double) {
        self.sampleCount = sampleCount
        self.views = views
        loss = NTXentLoss(temperature: temperature)
    }

    public func step(_ network: Network, positions: [Int], augmentationSeed: UInt64, stream: UInt64, iteration: Int) -> StepOutcome {
        var pair = views.views(positions, seed: augmentationSeed, stream: stream)
        let second = views.views(positions, seed: augmentationSeed, stream: stream | (1 << 31))
        pair.data += second.data
        pair.shape[0] *= 2
        let result = loss(network.forward(pair, training: true))
        network.backwardParameters(result.gradient)
        return StepOutcome(loss: result.loss)
    }

    public func save(into checkpoint: inout Checkpoint) {}
}
