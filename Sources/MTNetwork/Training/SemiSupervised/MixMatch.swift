import Foundation
import MTCore

/// MixMatch (Berthelot et al. 2019, "MixMatch: a holistic approach to semi-supervised learning"). Per step:
/// the labelled batch X (weak view, one-hot targets p), and for each unlabelled image K = 2 weak views
/// whose mean prediction, sharpened, is the guess q = s(mean_k softmax(f(u_k))), s(x)_c = x_c^(1/T) / sum_j x_j^(1/T)
/// (T 0.5). W = a shuffle of [X; U_1; U_2] with its targets; with lambda ~ Beta(alpha, alpha) (alpha 0.75)
/// and lambda' = max(lambda, 1 - lambda),
///
///     X' = lambda' X + (1 - lambda') W[0 ..< B],   U' = lambda' [U_1; U_2] + (1 - lambda') W[B ..< B + 2U]  (targets mixed alike)
///     loss = CE(f(X'), p') + lambda_u w(t) mean (softmax(f(U')) - q')^2,   w(t) = min(1, t / r)   (lambda_u 75, r = 1: see `defaultRampUp`)
///
/// X' and U' go through one forward pass (the reference interleaves its batches for the same reason: batch
/// norm sees them together). The guesses come from a training-mode pass without gradient, as the reference's.
/// One lambda per step (the reference's), drawn with the permutation from RNG stream (seed ^ mixStream, step).
/// The evaluated and saved model is the weight average (decay 0.999, the paper's), when there is one.
public final class MixMatchObjective: SemiSupervisedTraining {
    public let labeled: TrainingSet
    public let unlabeled: [Int]
    public let weak: ImageBatcher
    public let unlabeledRatio: Int
    public let temperature: Double
    public let alpha: Double
    public let weight: Double
    public let rampUp: Double
    public let seed: UInt64
    public let average: WeightAverage?
    public let epochSteps: Int
    public var stepsPerEpoch: Int? { epochSteps }
    public var totalSteps = 1
    public var maskRate: Double { 1 }
    private let pool: UnlabeledPool
    private let loss = CrossEntropyLoss()
    static let mixStream: UInt64 = 0x4D49_584D_4154_4348

    public init(labeled: TrainingSet, unlabeled: [Int], weak: ImageBatcher, unlabeledRatio: Int, temperature: Double, alpha: Double,
                weight: Double, rampUp: Double, seed: UInt64, average: WeightAverage?, epochSteps: Int) {
        precondition(unlabeledRatio >= 1 && !unlabeled.isEmpty && temperature > 0 && alpha > 0)
        self.labeled = labeled
        self.unlabeled = unlabeled
        self.weak = weak
        self.unlabeledRatio = unlabeledRatio
        self.temperature = temperature
        self.alpha = alpha
        self.weight = weight
        self.rampUp = rampUp
        self.seed = seed
        self.average = average
        self.epochSteps = epochSteps
        pool = UnlabeledPool(count: unlabeled.count, seed: seed)
    }

    public var sampleCount: Int { labeled.indices.count }

    /// s(x): every row of `p` [rows * k] raised to 1/T and renormalised.
    public static func sharpen(_ p: [Double], classes k: Int, temperature: Double) -> [Double] {
        var q = p
        for row in 0..<(p.count / k) {
            var sum = 0.0
            for c in 0..<k {
                q[row * k + c] = pow(p[row * k + c], 1 / temperature)
                sum += q[row * k + c]
            }
            for c in 0..<k { q[row * k + c] /= sum }
        }
        return q
    }

    /// A Beta(alpha, alpha) draw, as X / (X + Y) of two Gamma(alpha) draws (Marsaglia & Tsang, with the
    /// alpha < 1 boost U^(1/alpha)).
    public static func beta(_ alpha: Double, using rng: inout SeededGenerator) -> Double {
        func uniform() -> Double { max(Double(rng.next() >> 11) * (1.0 / Double(1 << 53)), 1e-300) }
        func gamma(_ shape: Double) -> Double {
            if shape < 1 { return gamma(shape + 1) * pow(uniform(), 1 / shape) }
            let d = shape - 1.0 / 3, c = 1 / (9 * d).squareRoot()
            while true {
                var x = 0.0, v = 0.0
                repeat {
                    x = Double(rng.nextNormal())
                    v = 1 + c * x
                } while v <= 0
                v = v * v * v
                let u = uniform()
                if log(u) < 0.5 * x * x + d - d * v + d * log(v) { return d * v }
            }
        }
        let x = gamma(alpha), y = gamma(alpha)
        return x / (x + y)
    }

    public func step(_ network: Network, positions: [Int], augmentationSeed: UInt64, stream: UInt64, iteration: Int) -> StepOutcome {
        let b = positions.count, u = unlabeledRatio * b
        let k = network.outputDimension
        let rows = pool.positions(iteration: iteration, count: u).map { unlabeled[$0] }
        let labels = positions.map { labeled.labels[$0] }
        let viewStream = UnlabeledPool.viewStream(iteration: iteration)
        let x = weak.batch(positions.map { labeled.indices[$0] }, seed: augmentationSeed, stream: stream)
        let views = [weak.batch(rows, seed: augmentationSeed &+ 1, stream: viewStream), weak.batch(rows, seed: augmentationSeed &+ 2, stream: viewStream)]
        // The guess: the sharpened mean prediction of the two views (no gradient).
        var mean = [Double](repeating: 0, count: u * k)
        for view in views {
            let p = ConsistencyMath.softmax(network.forward(view, training: true))
            for i in 0..<mean.count { mean[i] += p[i] / Double(views.count) }
        }
        let guess = Self.sharpen(mean, classes: k, temperature: temperature)
        // All inputs and targets, then mixup with a shuffle of themselves.
        var inputs = x
        for view in views {
            inputs.data += view.data
            inputs.shape[0] += u
        }
        let targets = ConsistencyMath.oneHot(labels.map(Int.init), classes: k) + guess + guess
        let n = b + 2 * u, size = inputs.sampleSize
        var rng = SeededGenerator(seed: seed ^ Self.mixStream, stream: UInt64(iteration))
        let lambda = Self.beta(alpha, using: &rng)
        let mix = max(lambda, 1 - lambda)
        let order = Array(0..<n).shuffled(using: &rng)
        var mixed = inputs
        var mixedTargets = [Double](repeating: 0, count: n * k)
        for i in 0..<n {
            let j = order[i]
            for e in 0..<size { mixed.data[i * size + e] = Float(mix) * inputs.data[i * size + e] + Float(1 - mix) * inputs.data[j * size + e] }
            for c in 0..<k { mixedTargets[i * k + c] = mix * targets[i * k + c] + (1 - mix) * targets[j * k + c] }
        }
        let logits = network.forward(mixed, training: true)
        func slice(_ start: Int, _ count: Int) -> Tensor {
            Tensor(shape: [count, k], data: Array(logits.data[(start * k)..<((start + count) * k)]))
        }
        let weights = labeled.weights.map { w in positions.map { w[$0] } }
        let supervised = loss(slice(0, b), distributions: mixedTargets[0..<(b * k)].map(Float.init), weights: weights)
        let consistency = ConsistencyMath.softmaxSquaredError(slice(b, 2 * u), targets: Array(mixedTargets[(b * k)...]))
        let progress = min(1, Double(iteration) / Double(max(totalSteps, 1)))
        let scale = weight * (rampUp > 0 ? min(1, progress / rampUp) : 1)
        var gradient = Tensor(zeros: logits.shape)
        for i in 0..<(b * k) { gradient.data[i] = supervised.gradient.data[i] }
        for i in 0..<(2 * u * k) { gradient.data[b * k + i] = Float(scale) * consistency.gradient.data[i] }
        network.backwardParameters(gradient)
        // Training accuracy on the unmixed labelled batch is not measured here (it would cost a pass).
        return StepOutcome(loss: supervised.loss + scale * consistency.loss)
    }

    public func afterOptimizerStep(_ network: Network, step: Int) { average?.update(from: network, step: step) }

    public func evaluated(_ network: Network) -> Network { average?.network ?? network }

    public func save(into checkpoint: inout Checkpoint) { SemiSupervisedObjective.saveAverage(average, into: &checkpoint) }
}
