import Foundation
import MTCore

/// Semi-supervised training, the step every method shares: a batch of B labelled images (weak view,
/// weighted cross-entropy) and mu * B unlabelled images, whose targets come from a weak view through
/// the network (or the mean teacher) and whose student view is trained towards them by `method`:
///
///     loss = CE(labelled) + lambda * w(t) * method(targets, students),   w(t) = exp(-5 (1 - t / r)^2) for t < r, else 1
///
/// with t the fraction of training done and r `rampUp` (0: no ramp). Layouts of the one forward pass
/// (batch-norm sees all its rows together, as in FixMatch): [labelled; unlabelled] when the student
/// trains on the target rows themselves (Pseudo-Label), [labelled; weak; student view] otherwise, and
/// [labelled; student view] with the teacher's targets from a separate evaluation-mode pass. Target
/// rows get no gradient.
///
/// Determinism: an epoch is `epochSteps` steps, the labelled batches from the Trainer's shuffles, the
/// unlabelled images from `UnlabeledPool`; their views come from augmentation seeds seed + 1 (targets)
/// and seed + 2 (students) with the step's stream (`UnlabeledPool.viewStream`).
public final class SemiSupervisedObjective: SemiSupervisedTraining {
    public let labeled: TrainingSet
    /// Data-set rows of the unlabelled images.
    public let unlabeled: [Int]
    public let weak: ImageBatcher
    public let strong: ImageBatcher
    public let method: any ConsistencyMethod
    /// mu: unlabelled images per labelled one in a step.
    public let unlabeledRatio: Int
    /// lambda: the weight of the unlabelled term.
    public let weight: Double
    /// r: the fraction of training over which the weight ramps up.
    public let rampUp: Double
    public let seed: UInt64
    /// The weight average: the teacher (mean teacher) and the model that is evaluated and saved.
    public let average: WeightAverage?
    /// Steps per epoch (checkpoint and report granularity).
    public let epochSteps: Int
    public var stepsPerEpoch: Int? { epochSteps }
    /// Steps of the whole run (set from the Trainer), for t.
    public var totalSteps = 1
    /// The fraction of unlabelled images that passed the mask in the last step.
    public private(set) var maskRate = 0.0
    private let loss = CrossEntropyLoss()
    private let pool: UnlabeledPool

    public init(labeled: TrainingSet, unlabeled: [Int], weak: ImageBatcher, strong: ImageBatcher, method: any ConsistencyMethod,
                unlabeledRatio: Int, weight: Double, rampUp: Double, seed: UInt64, average: WeightAverage?, epochSteps: Int) {
        self.epochSteps = epochSteps
        precondition(unlabeledRatio >= 1 && !unlabeled.isEmpty && (average != nil || !method.usesTeacher))
        self.labeled = labeled
        self.unlabeled = unlabeled
        self.weak = weak
        self.strong = strong
        self.method = method
        self.unlabeledRatio = unlabeledRatio
        self.weight = weight
        self.rampUp = rampUp
        self.seed = seed
        self.average = average
        pool = UnlabeledPool(count: unlabeled.count, seed: seed)
    }

    public var sampleCount: Int { labeled.indices.count }

    /// w(t) of the unlabelled term.
    public func rampWeight(progress t: Double) -> Double {
        guard rampUp > 0, t < rampUp else { return 1 }
        let x = 1 - t / rampUp
        return exp(-5 * x * x)
    }

    /// Positions in the unlabelled pool of step `iteration`'s `count` images.
    public func unlabeledPositions(iteration: Int, count: Int) -> [Int] { pool.positions(iteration: iteration, count: count) }

    public func step(_ network: Network, positions: [Int], augmentationSeed: UInt64, stream: UInt64, iteration: Int) -> StepOutcome {
        let b = positions.count, u = unlabeledRatio * b
        let progress = min(1, Double(iteration) / Double(max(totalSteps, 1)))
        let drawn = unlabeledPositions(iteration: iteration, count: u)
        let rows = drawn.map { unlabeled[$0] }
        let labels = positions.map { labeled.labels[$0] }
        let unlabeledStream = UnlabeledPool.viewStream(iteration: iteration)
        var input = weak.batch(positions.map { labeled.indices[$0] }, seed: augmentationSeed, stream: stream)
        func append(_ views: Tensor) {
            input.data += views.data
            input.shape[0] += views.batch
        }
        let targetView = weak.batch(rows, seed: augmentationSeed &+ 1, stream: unlabeledStream)
        var teacherLogits: Tensor?
        let studentStart: Int
        if method.usesTeacher, let average {
            teacherLogits = average.network.forward(targetView, training: false)
        } else {
            append(targetView)
        }
        switch method.studentView {
        case .target:
            studentStart = b
        case .weak:
            studentStart = input.batch
            append(weak.batch(rows, seed: augmentationSeed &+ 2, stream: unlabeledStream))
        case .strong:
            studentStart = input.batch
            append(strong.batch(rows, seed: augmentationSeed &+ 2, stream: unlabeledStream))
        }
        let logits = network.forward(input, training: true)
        let k = logits.sampleSize
        func slice(_ start: Int, _ count: Int) -> Tensor {
            Tensor(shape: [count, k], data: Array(logits.data[(start * k)..<((start + count) * k)]))
        }
        let labeledLogits = slice(0, b)
        var weights = labeled.weights.map { w in positions.map { w[$0] } } ?? [Float](repeating: 1, count: b)
        if let mask = method.supervisedMask(logits: labeledLogits, labels: labels, progress: progress) {
            // UDA averages the supervised loss over the samples it keeps.
            let kept = max(1, mask.reduce(0, +))
            weights = zip(weights, mask).map { $0 * $1 * Float(b) / kept }
        }
        let supervised = loss(labeledLogits, targets: labels, weights: weights)
        let targets = teacherLogits ?? slice(b, u)
        let term = method.consistency(targets: targets, students: slice(studentStart, u), samples: drawn, progress: progress)
        let scale = weight * rampWeight(progress: progress)
        var gradient = Tensor(zeros: logits.shape)
        for i in 0..<(b * k) { gradient.data[i] = supervised.gradient.data[i] }
        for i in 0..<(u * k) { gradient.data[studentStart * k + i] += Float(scale) * term.gradient.data[i] }
        network.backwardParameters(gradient)
        maskRate = term.maskRate
        let predicted = labeledLogits.rowArgmax()
        return StepOutcome(loss: supervised.loss + scale * term.loss, correct: zip(predicted, labels).filter { $0 == Int($1) }.count)
    }

    public func afterOptimizerStep(_ network: Network, step: Int) { average?.update(from: network, step: step) }

    public func evaluated(_ network: Network) -> Network { average?.network ?? network }

    /// With a weight average the checkpoint's network is the average (what is evaluated and embedded)
    /// and the student's weights go to `training/student.<key>`; the method adds its own state.
    public func save(into checkpoint: inout Checkpoint) {
        Self.saveAverage(average, into: &checkpoint)
        method.saveState(into: &checkpoint.trainingState)
    }

    /// With a weight average, the checkpoint's network becomes the average and the student's weights go to
    /// `training/student.<key>` (what `restoreStudent` reads back).
    static func saveAverage(_ average: WeightAverage?, into checkpoint: inout Checkpoint) {
        guard let average else { return }
        for (key, parameter) in checkpoint.network.namedParameters() { checkpoint.trainingState["student." + key] = parameter.value }
        checkpoint.network = average.network.copy()
    }

    /// The student and the average of a checkpoint written by `save(into:)`: (student, average network).
    public static func restoreStudent(_ checkpoint: Checkpoint, source: String) throws -> (student: Network, average: Network) {
        let student = checkpoint.network.copy()
        for (key, parameter) in student.namedParameters() {
            guard let values = checkpoint.trainingState["student." + key], values.count == parameter.value.count else {
                throw MTError.badInput(source, "/training/student." + key, "expected the student's weights beside the averaged model (float32 [\(parameter.value.count)])")
            }
            parameter.value = values
        }
        return (student, checkpoint.network)
    }
}
