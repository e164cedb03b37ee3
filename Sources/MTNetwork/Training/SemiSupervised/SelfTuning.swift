import Foundation
import MTCore

/// Self-Tuning (Wang et al. 2021, "Self-tuning for data-efficient deep learning"), as TLlib's
/// `self_tuning.py`: pseudo-group contrast (PGC). A projector (Linear(D, P), L2-normalised) beside the
/// classifier head maps each query view q to the unit sphere; a key encoder — an exponential moving
/// average of the network and projector — maps a second view to its key k; a queue keeps the last
/// `queueSize` keys of every class. A query's positives are its own key and its class's queue, its
/// negatives the other classes' queues:
///
///     PGC_i = KL(t || softmax([q_i . k_i, q_i . Q_c_i, q_i . Q_other] / T)),   t = 1 / (queueSize + 1) on the positives
///
/// batch-mean. Labelled images contrast under their labels (plus the head's cross-entropy), unlabelled
/// ones under the head's argmax prediction of the same query view, and each pass's keys then enter the
/// queue of their (pseudo-)class, one at a time. Both views are strong (RandAugment + Cutout), as in the
/// reference. The key encoder follows the network before each of the step's two key passes, with
/// `WeightAverage`'s warm-up (d = min(m, (1 + n) / (10 + n)) after n updates), where the reference starts
/// at m: a few thousand CPU steps cannot wait for a key encoder that keeps 0.999^n of its random start.
/// TLlib's bottleneck is left out: projector and head read the architecture's embedding. The pseudo-labels
/// come from the query forward itself (the reference runs the unlabelled queries twice, once for them).
public final class SelfTuningObjective: SemiSupervisedTraining {
    public struct Settings: Sendable {
        /// Keys kept per class.
        public var queueSize: Int
        public var temperature: Double
        /// m, the key encoder's decay.
        public var keyMomentum: Double
        public var projectionDimension: Int

        public init(queueSize: Int = 32, temperature: Double = 0.07, keyMomentum: Double = 0.999, projectionDimension: Int = 1024) {
            self.queueSize = queueSize
            self.temperature = temperature
            self.keyMomentum = keyMomentum
            self.projectionDimension = projectionDimension
        }
    }

    public let labeled: TrainingSet
    public let unlabeled: [Int]
    public let strong: ImageBatcher
    public let settings: Settings
    public let unlabeledRatio: Int
    public let classes: Int
    public let epochSteps: Int
    public var stepsPerEpoch: Int? { epochSteps }
    public var totalSteps = 1
    public private(set) var maskRate = 1.0
    public let projector: Linear
    public let keyEncoder: WeightAverage
    public let keyProjector: Linear
    /// [classes * queueSize, P]: class c's keys in rows c * queueSize ..< (c + 1) * queueSize.
    public private(set) var queue: [Float]
    /// Per class, the queue row its next key replaces.
    public private(set) var queuePointers: [Int]
    private let normalize = L2Normalize()
    private let keyNormalize = L2Normalize()
    private let pool: UnlabeledPool
    private let loss = CrossEntropyLoss()
    static let statePrefix = "selftuning."

    /// - Parameter network: the network being trained; the key encoder starts as its copy.
    public init(labeled: TrainingSet, unlabeled: [Int], strong: ImageBatcher, settings: Settings, unlabeledRatio: Int,
                network: Network, seed: UInt64, epochSteps: Int) {
        precondition(unlabeledRatio >= 1 && !unlabeled.isEmpty && settings.queueSize >= 1 && settings.projectionDimension >= 1)
        self.labeled = labeled
        self.unlabeled = unlabeled
        self.strong = strong
        self.settings = settings
        self.unlabeledRatio = unlabeledRatio
        self.epochSteps = epochSteps
        classes = network.outputDimension
        pool = UnlabeledPool(count: unlabeled.count, seed: seed)
        let d = network.architecture.embeddingDimension, p = settings.projectionDimension
        projector = Linear(d, p)
        var rng = SeededGenerator(seed: seed ^ 0x5345_4C46_5455_4E45)
        projector.initializeAsPyTorch(using: &rng)
        keyProjector = Linear(d, p)
        keyProjector.weight.value = projector.weight.value
        keyProjector.bias.value = projector.bias.value
        keyEncoder = WeightAverage(of: network, decay: settings.keyMomentum)
        // The reference's queue starts as random unit vectors.
        var queue = (0..<(classes * settings.queueSize * p)).map { _ in rng.nextNormal() }
        for row in 0..<(classes * settings.queueSize) {
            let norm = max((0..<p).reduce(Float(0)) { $0 + queue[row * p + $1] * queue[row * p + $1] }.squareRoot(), 1e-12)
            for j in 0..<p { queue[row * p + j] /= norm }
        }
        self.queue = queue
        queuePointers = [Int](repeating: 0, count: classes)
    }

    public var sampleCount: Int { labeled.indices.count }

    public var auxiliaryParameters: [(String, Parameter)] { prefixed(Self.statePrefix + "projector", projector.namedParameters()) }

    private var averagedParameters: [(String, Parameter)] {
        prefixed(Self.statePrefix + "key", keyEncoder.network.namedParameters())
            + prefixed(Self.statePrefix + "key_projector", keyProjector.namedParameters())
    }

    /// PGC over unit queries and keys [B, P] and the queue [entries, P] (`perClass` rows per class),
    /// each query contrasted under `labels`: the batch-mean loss and d(loss)/d(queries) [B, P]. In float64.
    public static func pseudoGroupContrast(queries: Tensor, keys: Tensor, queue: [Float], perClass: Int, labels: [Int],
                                           temperature: Double) -> (loss: Double, gradient: Tensor) {
        let b = queries.batch, p = queries.sampleSize, entries = queue.count / p
        let q = queries.data.map(Double.init), k = keys.data.map(Double.init), bank = queue.map(Double.init)
        var logits = [Double](repeating: 0, count: b * entries)
        BLAS.singleThreaded { BLAS.gemm(q, bank, &logits, m: b, n: entries, k: p, transposeB: true) }
        let target = 1 / Double(perClass + 1), logTarget = log(target)
        var gradient = [Double](repeating: 0, count: b * entries)
        var keyGradient = [Double](repeating: 0, count: b)
        var total = 0.0
        for i in 0..<b {
            var own = 0.0
            for j in 0..<p { own += q[i * p + j] * k[i * p + j] }
            let positives = (labels[i] * perClass)..<((labels[i] + 1) * perClass)
            let scaled = (0..<entries).map { logits[i * entries + $0] / temperature }
            let ownScaled = own / temperature
            let maximum = max(ownScaled, scaled.max() ?? -.infinity)
            let sum = exp(ownScaled - maximum) + scaled.reduce(0) { $0 + exp($1 - maximum) }
            let logNormalizer = maximum + log(sum)
            total += target * (logTarget - (ownScaled - logNormalizer))
            keyGradient[i] = (exp(ownScaled - logNormalizer) - target) / (Double(b) * temperature)
            for j in 0..<entries {
                let positive = positives.contains(j)
                if positive { total += target * (logTarget - (scaled[j] - logNormalizer)) }
                gradient[i * entries + j] = (exp(scaled[j] - logNormalizer) - (positive ? target : 0)) / (Double(b) * temperature)
            }
        }
        var dq = [Double](repeating: 0, count: b * p)
        BLAS.singleThreaded { BLAS.gemm(gradient, bank, &dq, m: b, n: p, k: entries) }
        for i in 0..<b { for j in 0..<p { dq[i * p + j] += keyGradient[i] * k[i * p + j] } }
        return (total / Double(b), Tensor(shape: [b, p], data: dq.map(Float.init)))
    }

    /// Keys [B, P] into the queues of their classes, one after another.
    func enqueue(_ keys: Tensor, labels: [Int]) {
        let p = keys.sampleSize
        for (i, label) in labels.enumerated() {
            let row = label * settings.queueSize + queuePointers[label]
            queue.replaceSubrange((row * p)..<((row + 1) * p), with: keys.data[(i * p)..<((i + 1) * p)])
            queuePointers[label] = (queuePointers[label] + 1) % settings.queueSize
        }
    }

    /// One contrast pass: query and key views of the same images; `labels` nil for unlabelled images
    /// (then the head's predictions are the groups). Returns the pass's loss and its groups.
    private func contrast(_ network: Network, query: Tensor, key: Tensor, labels: [Int32]?, weights: [Float]?, update: Int)
        -> (loss: Double, groups: [Int], logits: Tensor) {
        let features = network.forwardEmbedding(query, training: true)
        let logits = network.head.forward(features, training: true)
        let queries = normalize.forward(projector.forward(features, training: true), training: true)
        let groups = labels.map { $0.map(Int.init) } ?? logits.rowArgmax()
        // The key encoder follows the network first, as MoCo's does; keys get no gradient.
        let decay = keyEncoder.decay(afterStep: update)
        keyEncoder.update(from: network, step: update)
        WeightAverage.blend(keyProjector.namedParameters(), towards: projector.namedParameters(), decay: decay)
        let keys = keyNormalize.forward(keyProjector.forward(keyEncoder.network.forwardEmbedding(key, training: true), training: false),
                                        training: false)
        let pgc = Self.pseudoGroupContrast(queries: queries, keys: keys, queue: queue, perClass: settings.queueSize, labels: groups,
                                           temperature: settings.temperature)
        enqueue(keys, labels: groups)
        var featureGradient = projector.backward(normalize.backward(pgc.gradient))
        var total = pgc.loss
        if let labels {
            let supervised = loss(logits, targets: labels, weights: weights)
            let headGradient = network.head.backward(supervised.gradient)
            for i in 0..<featureGradient.count { featureGradient.data[i] += headGradient.data[i] }
            total += supervised.loss
        }
        network.backwardEmbeddingParameters(featureGradient)
        return (total, groups, logits)
    }

    public func step(_ network: Network, positions: [Int], augmentationSeed: UInt64, stream: UInt64, iteration: Int) -> StepOutcome {
        precondition(!network.normalizesOutput, "self-tuning trains a classifier")
        let u = unlabeledRatio * positions.count
        let rows = pool.positions(iteration: iteration, count: u).map { unlabeled[$0] }
        let labeledRows = positions.map { labeled.indices[$0] }
        let labels = positions.map { labeled.labels[$0] }
        let weights = labeled.weights.map { w in positions.map { w[$0] } }
        let viewStream = UnlabeledPool.viewStream(iteration: iteration)
        let first = contrast(network, query: strong.batch(labeledRows, seed: augmentationSeed &+ 3, stream: stream),
                             key: strong.batch(labeledRows, seed: augmentationSeed &+ 4, stream: stream),
                             labels: labels, weights: weights, update: 2 * iteration)
        let second = contrast(network, query: strong.batch(rows, seed: augmentationSeed &+ 1, stream: viewStream),
                              key: strong.batch(rows, seed: augmentationSeed &+ 2, stream: viewStream),
                              labels: nil, weights: nil, update: 2 * iteration + 1)
        return StepOutcome(loss: first.loss + second.loss, correct: zip(first.logits.rowArgmax(), labels).filter { $0 == Int($1) }.count)
    }

    public func evaluated(_ network: Network) -> Network { network }

    public func save(into checkpoint: inout Checkpoint) {
        for (key, parameter) in auxiliaryParameters + averagedParameters { checkpoint.trainingState[key] = parameter.value }
        checkpoint.trainingState[Self.statePrefix + "queue"] = queue
        checkpoint.trainingState[Self.statePrefix + "queue_pointers"] = queuePointers.map(Float.init)
    }

    /// The projector, key encoder and queues of a checkpoint written by `save(into:)`.
    public func restore(_ state: [String: [Float]], source: String) throws {
        try restoreAuxiliary(auxiliaryParameters + averagedParameters, from: state, source: source)
        let queueKey = Self.statePrefix + "queue", pointersKey = Self.statePrefix + "queue_pointers"
        guard let stored = state[queueKey], stored.count == queue.count else {
            throw MTError.badInput(source, "/training/" + queueKey, "expected float32 [\(queue.count)] (\(classes) x \(settings.queueSize) keys of \(settings.projectionDimension))")
        }
        guard let pointers = state[pointersKey], pointers.count == classes,
              pointers.allSatisfy({ $0 >= 0 && $0 < Float(settings.queueSize) && $0 == $0.rounded() }) else {
            throw MTError.badInput(source, "/training/" + pointersKey, "expected float32 [\(classes)] of whole numbers in 0..<\(settings.queueSize)")
        }
        queue = stored
        queuePointers = pointers.map { Int($0) }
    }
}
