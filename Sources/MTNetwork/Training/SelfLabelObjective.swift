import Foundation
import MTAlgorithms
import MTCore

/// Self-labelling (Asano, Rupprecht & Vedaldi 2020, "Self-labelling via simultaneous clustering and
/// representation learning"): no labels at all. H linear heads on the penultimate embedding each predict
/// one of K clusters; the network is trained with the mean over heads of the cross-entropy against each
/// head's pseudo-labels, and `labelUpdates` times over training the pseudo-labels of every head are
/// re-assigned by an optimal-transport step that forces an equal partition of the N images over the K
/// clusters: Sinkhorn-Knopp (`SinkhornKnopp`, float64) on the head's probabilities raised to lambda (25),
/// then each image's most likely cluster.
///
/// Head 0 is the network's own head (`fc`, the checkpoint's output: its argmax is the image's cluster);
/// heads 1..<H are training state (`/training/selflabel.head{h}.*`), as are the pseudo-labels of every head
/// (`/training/selflabel.labels{h}`, N each), so a resumed run continues bit for bit. Labels start as a
/// seeded random equipartition; the updates come at steps floor(u * T / U), u = 0..<U (T steps in all, the
/// first before any training, as the reference's evenly spaced schedule). The assignment reads every
/// image once per update in evaluation mode, `batchSize` at a time, without augmentation; its memory is
/// N x K float64 per head (plus the kernel of the same size while it runs).
public final class SelfLabelObjective: TrainingObjective {
    public let views: any AugmentedViews
    public let dataset: ImageDataset
    public let clusters: Int
    public let heads: Int
    public let labelUpdates: Int
    public let sinkhorn: SinkhornKnopp
    /// Steps of the whole run (set from the Trainer), for the update schedule.
    public var totalSteps = 1
    /// Per head, every image's pseudo-label.
    public private(set) var labels: [[Int32]]
    /// Per head, the class marginals of the last Sinkhorn assignment (sums of its balanced rows), for diagnostics.
    public private(set) var lastMarginals: [[Double]] = []
    public let extraHeads: [Linear]
    private let loss = CrossEntropyLoss()
    static let statePrefix = "selflabel."

    public init(views: any AugmentedViews, dataset: ImageDataset, network: Network, heads: Int, labelUpdates: Int, lambda: Double, seed: UInt64) {
        precondition(heads >= 1 && labelUpdates >= 1 && !network.normalizesOutput && dataset.count >= network.outputDimension)
        self.views = views
        self.dataset = dataset
        clusters = network.outputDimension
        self.heads = heads
        self.labelUpdates = labelUpdates
        sinkhorn = SinkhornKnopp(lambda: lambda, maxIterations: 1000, tolerance: 1e-6)
        var rng = SeededGenerator(seed: seed ^ 0x5345_4C46_4C41_4245)
        extraHeads = (1..<max(heads, 1)).map { _ in
            let head = Linear(network.architecture.embeddingDimension, network.outputDimension)
            head.initializeAsPyTorch(using: &rng)
            return head
        }
        let n = dataset.count, k = network.outputDimension
        labels = (0..<heads).map { _ in (0..<n).map { Int32($0 % k) }.shuffled(using: &rng) }
    }

    public var sampleCount: Int { dataset.count }

    public var auxiliaryParameters: [(String, Parameter)] {
        extraHeads.enumerated().flatMap { prefixed(Self.statePrefix + "head\($0.offset + 1)", $0.element.namedParameters()) }
    }

    /// The steps before which the labels are re-assigned.
    public func updateSteps(total: Int) -> Set<Int> { Set((0..<labelUpdates).map { $0 * total / labelUpdates }) }

    /// Re-assigns every head's labels: probabilities of all images (evaluation mode), Sinkhorn-Knopp to the
    /// uniform prior, argmax.
    public func assignLabels(_ network: Network, batchSize: Int = 512) {
        let n = dataset.count, k = clusters
        let batcher = ImageBatcher(dataset: dataset, mean: network.inputMean, std: network.inputStd, augmentation: .none)
        var probs = [[Float]](repeating: [Float](repeating: 0, count: n * k), count: heads)
        for start in stride(from: 0, to: n, by: batchSize) {
            let indices = Array(start..<min(start + batchSize, n))
            let features = network.forwardEmbedding(batcher.batch(indices), training: false)
            for h in 0..<heads {
                let logits = h == 0 ? network.head.forward(features, training: false) : extraHeads[h - 1].forward(features, training: false)
                let p = ConsistencyMath.softmax(logits)
                for i in 0..<p.count { probs[h][start * k + i] = Float(p[i]) }
            }
        }
        let prior = [Double](repeating: 1 / Double(k), count: k)
        lastMarginals = []
        for h in 0..<heads {
            let result = sinkhorn.balance(probs[h], rows: n, classes: k, prior: prior)
            labels[h] = Argmax.rows(result.probs, columns: k).map { Int32($0) }
            var marginal = [Double](repeating: 0, count: k)
            for i in 0..<n { for c in 0..<k { marginal[c] += result.probs[i * k + c] } }
            lastMarginals.append(marginal.map { $0 / Double(n) })
        }
    }

    public func step(_ network: Network, positions: [Int], augmentationSeed: UInt64, stream: UInt64, iteration: Int) -> StepOutcome {
        if updateSteps(total: totalSteps).contains(iteration) { assignLabels(network) }
        let features = network.forwardEmbedding(views.views(positions, seed: augmentationSeed, stream: stream), training: true)
        var featureGradient = Tensor(zeros: features.shape)
        var total = 0.0, correct = 0
        for h in 0..<heads {
            let head = h == 0 ? network.head : extraHeads[h - 1]
            let logits = head.forward(features, training: true)
            let targets = positions.map { labels[h][$0] }
            var result = loss(logits, targets: targets)
            for i in 0..<result.gradient.count { result.gradient.data[i] /= Float(heads) }
            let back = head.backward(result.gradient)
            for i in 0..<back.count { featureGradient.data[i] += back.data[i] }
            total += result.loss / Double(heads)
            if h == 0 { correct = zip(logits.rowArgmax(), targets).filter { $0 == Int($1) }.count }
        }
        network.backwardEmbeddingParameters(featureGradient)
        return StepOutcome(loss: total, correct: correct)
    }

    public func save(into checkpoint: inout Checkpoint) {
        for (key, parameter) in auxiliaryParameters { checkpoint.trainingState[key] = parameter.value }
        for (h, assigned) in labels.enumerated() { checkpoint.trainingState[Self.statePrefix + "labels\(h)"] = assigned.map(Float.init) }
    }

    /// The extra heads and every head's labels of a checkpoint written by `save(into:)`.
    public func restore(_ state: [String: [Float]], source: String) throws {
        try restoreAuxiliary(auxiliaryParameters, from: state, source: source)
        for h in 0..<heads {
            let key = Self.statePrefix + "labels\(h)"
            guard let stored = state[key], stored.count == dataset.count, stored.allSatisfy({ $0 >= 0 && $0 < Float(clusters) && $0 == $0.rounded() }) else {
                throw MTError.badInput(source, "/training/" + key, "expected float32 [\(dataset.count)] cluster ids in 0..<\(clusters)")
            }
            labels[h] = stored.map { Int32($0) }
        }
    }
}
