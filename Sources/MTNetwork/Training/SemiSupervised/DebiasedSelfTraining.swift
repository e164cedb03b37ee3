import Foundation
import MTCore

/// Debiased self-training (Chen et al. 2022, "Debiased self-training for semi-supervised learning"), as
/// TLlib's `dst.py`. The main head h, which makes the pseudo-labels, is trained on the labelled images
/// only; the pseudo-labels train a separate non-linear pseudo head on the strong views, so h's errors do
/// not feed back into h; and a worst-case head h_w, behind a gradient reversal, estimates how far a head
/// that fits the labelled images can disagree with h on the unlabelled ones, which the features are
/// trained to prevent. Each step makes three passes, as the reference does (batch-norm sees each batch alone):
///
///     1. strong labelled views:        s * CE(h(x_l^s), y)                                  (s = 0.1)
///     2. weak [labelled; unlabelled]:  CE(h(x_l), y) + eta * WCE(h, h_w)                      (h_w behind the reversal)
///     3. strong unlabelled views:      lambda * (1/U) sum_i m_i CE(h_p(x_u^s)_i, argmax h(x_u)_i),  m_i = [max softmax h(x_u)_i >= threshold]
///
/// with WCE = eta' CE(h_w(x_l), argmax h(x_l)) + (1/U) sum_i -log(min(1, 1 - softmax(h_w(x_u))_i[argmax h(x_u)_i] + 1e-6)).
/// The reversal multiplies the features' gradient from h_w by -c(t), c(t) = 2 (hi - lo) / (1 + exp(-t / 1000))
/// - (hi - lo) + lo with lo = 0, hi = 0.1 and t the optimiser steps taken (TLlib's warm start). Heads:
/// Linear(D, width) - ReLU - Dropout(0.5) - Linear(width, K) on the penultimate embedding (TLlib adds a
/// 1024-wide bottleneck before all heads; mt's heads read the architecture's embedding directly). Only the
/// main head is saved as the model; the two others are training state (`/training/dst.*`).
public final class DebiasedSelfTrainingObjective: SemiSupervisedTraining {
    public struct Settings: Sendable {
        public var threshold: Double
        /// lambda: the weight of the self-training term (pass 3).
        public var selfTrainingWeight: Double
        /// eta and eta' of the worst-case estimation.
        public var eta: Double
        public var etaPrime: Double
        /// s: the weight of the strong labelled views (pass 1).
        public var strongLabeledWeight: Double
        /// Hidden width of the pseudo and worst-case heads.
        public var headWidth: Int

        public init(threshold: Double = 0.7, selfTrainingWeight: Double = 1, eta: Double = 1, etaPrime: Double = 2,
                    strongLabeledWeight: Double = 0.1, headWidth: Int = 2048) {
            self.threshold = threshold
            self.selfTrainingWeight = selfTrainingWeight
            self.eta = eta
            self.etaPrime = etaPrime
            self.strongLabeledWeight = strongLabeledWeight
            self.headWidth = headWidth
        }
    }

    public let labeled: TrainingSet
    public let unlabeled: [Int]
    public let weak: ImageBatcher
    public let strong: ImageBatcher
    public let settings: Settings
    public let unlabeledRatio: Int
    public let epochSteps: Int
    public var stepsPerEpoch: Int? { epochSteps }
    public var totalSteps = 1
    public private(set) var maskRate = 0.0
    public let pseudoHead: Sequential
    public let worstCaseHead: Sequential
    private let dropouts: [Dropout]
    private let pool: UnlabeledPool
    private let loss = CrossEntropyLoss()
    static let statePrefix = "dst."

    public init(labeled: TrainingSet, unlabeled: [Int], weak: ImageBatcher, strong: ImageBatcher, settings: Settings, unlabeledRatio: Int,
                embeddingDimension: Int, classes: Int, seed: UInt64, epochSteps: Int) {
        precondition(unlabeledRatio >= 1 && !unlabeled.isEmpty && settings.headWidth >= 1)
        self.labeled = labeled
        self.unlabeled = unlabeled
        self.weak = weak
        self.strong = strong
        self.settings = settings
        self.unlabeledRatio = unlabeledRatio
        self.epochSteps = epochSteps
        pool = UnlabeledPool(count: unlabeled.count, seed: seed)
        var heads: [Sequential] = [], dropouts: [Dropout] = []
        for index in 0..<2 {
            let first = Linear(embeddingDimension, settings.headWidth), last = Linear(settings.headWidth, classes)
            var rng = SeededGenerator(seed: seed ^ 0x4453_5448_4541_4453, stream: UInt64(index))
            first.initializeAsPyTorch(using: &rng)
            last.initializeAsPyTorch(using: &rng)
            let dropout = Dropout(0.5, seed: seed &+ 0xD5 &+ UInt64(index))
            dropouts.append(dropout)
            heads.append(Sequential(indexed: [first, ReLU(), dropout, last]))
        }
        pseudoHead = heads[0]
        worstCaseHead = heads[1]
        self.dropouts = dropouts
    }

    public var sampleCount: Int { labeled.indices.count }

    public var auxiliaryParameters: [(String, Parameter)] {
        prefixed(Self.statePrefix + "pseudo_head", pseudoHead.namedParameters())
            + prefixed(Self.statePrefix + "adv_head", worstCaseHead.namedParameters())
    }

    /// c(t), the gradient reversal's coefficient after t optimiser steps.
    public static func reversalCoefficient(step t: Int, low: Double = 0, high: Double = 0.1, alpha: Double = 1, steps: Double = 1000) -> Double {
        2 * (high - low) / (1 + exp(-alpha * Double(t) / steps)) - (high - low) + low
    }

    /// WCE and its gradients with respect to the worst-case head's logits (labelled [B, K], unlabelled
    /// [U, K]); the main head's logits enter only through their argmax.
    public static func worstCaseEstimation(main labeledMain: Tensor, worst labeledWorst: Tensor, mainUnlabeled: Tensor, worstUnlabeled: Tensor,
                                           etaPrime: Double) -> (loss: Double, labeled: Tensor, unlabeled: Tensor) {
        let k = labeledMain.sampleSize
        let targets = ConsistencyMath.oneHot(labeledMain.rowArgmax(), classes: k)
        let (labeledLoss, gradient) = ConsistencyMath.crossEntropy(labeledWorst, targets: targets,
                                                                    mask: [Double](repeating: 1, count: labeledMain.batch))
        var labeledGradient = gradient
        for i in 0..<labeledGradient.count { labeledGradient.data[i] *= Float(etaPrime) }
        // -log(1 - p_c): pushes h_w away from h's class; d/dz_j = p_c (delta_cj - p_j) / (1 - p_c + 1e-6) / U,
        // 0 where the clamp at 1 is active (p_c <= 1e-6).
        let u = mainUnlabeled.batch
        let p = ConsistencyMath.softmax(worstUnlabeled)
        let predicted = mainUnlabeled.rowArgmax()
        var unlabeledGradient = Tensor(zeros: worstUnlabeled.shape)
        var unlabeledLoss = 0.0
        for i in 0..<u {
            let c = predicted[i], pc = p[i * k + c]
            let complement = 1 - pc + 1e-6
            guard complement < 1 else { continue }
            unlabeledLoss -= log(complement)
            for j in 0..<k {
                unlabeledGradient.data[i * k + j] = Float(pc * ((j == c ? 1 : 0) - p[i * k + j]) / complement / Double(u))
            }
        }
        return (etaPrime * labeledLoss + unlabeledLoss / Double(u), labeledGradient, unlabeledGradient)
    }

    public func step(_ network: Network, positions: [Int], augmentationSeed: UInt64, stream: UInt64, iteration: Int) -> StepOutcome {
        precondition(!network.normalizesOutput, "dst trains a classifier")
        let b = positions.count, u = unlabeledRatio * b, k = network.outputDimension
        let rows = pool.positions(iteration: iteration, count: u).map { unlabeled[$0] }
        let labeledRows = positions.map { labeled.indices[$0] }
        let labels = positions.map { labeled.labels[$0] }
        let weights = labeled.weights.map { w in positions.map { w[$0] } }
        let viewStream = UnlabeledPool.viewStream(iteration: iteration)
        // The masks of the heads' dropout follow the step, so a resumed run draws the same ones.
        for dropout in dropouts { dropout.step = UInt64(iteration) << 1 }

        // 1. Strong views of the labelled images through the main head.
        let strongLabeled = network.forward(strong.batch(labeledRows, seed: augmentationSeed &+ 3, stream: stream), training: true)
        var first = loss(strongLabeled, targets: labels, weights: weights)
        for i in 0..<first.gradient.count { first.gradient.data[i] *= Float(settings.strongLabeledWeight) }
        network.backwardParameters(first.gradient)

        // 2. Weak views, labelled then unlabelled: the main head (labelled loss) and the worst-case head.
        var input = weak.batch(labeledRows, seed: augmentationSeed, stream: stream)
        let weakUnlabeled = weak.batch(rows, seed: augmentationSeed &+ 1, stream: viewStream)
        input.data += weakUnlabeled.data
        input.shape[0] += u
        let features = network.forwardEmbedding(input, training: true)
        let main = network.head.forward(features, training: true)
        let worst = worstCaseHead.forward(features, training: true)
        func slice(_ logits: Tensor, _ start: Int, _ count: Int) -> Tensor {
            Tensor(shape: [count, k], data: Array(logits.data[(start * k)..<((start + count) * k)]))
        }
        let mainLabeled = slice(main, 0, b), mainUnlabeled = slice(main, b, u)
        let second = loss(mainLabeled, targets: labels, weights: weights)
        let estimation = Self.worstCaseEstimation(main: mainLabeled, worst: slice(worst, 0, b), mainUnlabeled: mainUnlabeled,
                                                  worstUnlabeled: slice(worst, b, u), etaPrime: settings.etaPrime)
        var mainGradient = Tensor(zeros: main.shape)
        mainGradient.data.replaceSubrange(0..<(b * k), with: second.gradient.data)
        var worstGradient = Tensor(shape: worst.shape, data: estimation.labeled.data + estimation.unlabeled.data)
        for i in 0..<worstGradient.count { worstGradient.data[i] *= Float(settings.eta) }
        var featureGradient = network.head.backward(mainGradient)
        let reversed = worstCaseHead.backward(worstGradient)
        let reversal = Float(-Self.reversalCoefficient(step: iteration))
        for i in 0..<featureGradient.count { featureGradient.data[i] += reversal * reversed.data[i] }
        network.backwardEmbeddingParameters(featureGradient)

        // 3. Strong views of the unlabelled images through the pseudo head, towards the main head's
        // confident weak predictions.
        let strongFeatures = network.forwardEmbedding(strong.batch(rows, seed: augmentationSeed &+ 2, stream: viewStream), training: true)
        let pseudo = pseudoHead.forward(strongFeatures, training: true)
        var term = ConsistencyMath.confidentHardTargets(mainUnlabeled, pseudo, threshold: settings.threshold)
        for i in 0..<term.gradient.count { term.gradient.data[i] *= Float(settings.selfTrainingWeight) }
        network.backwardEmbeddingParameters(pseudoHead.backward(term.gradient))
        maskRate = term.maskRate

        let total = settings.strongLabeledWeight * first.loss + second.loss + settings.eta * estimation.loss
            + settings.selfTrainingWeight * term.loss
        let predicted = mainLabeled.rowArgmax()
        return StepOutcome(loss: total, correct: zip(predicted, labels).filter { $0 == Int($1) }.count)
    }

    public func evaluated(_ network: Network) -> Network { network }

    public func save(into checkpoint: inout Checkpoint) {
        for (key, parameter) in auxiliaryParameters { checkpoint.trainingState[key] = parameter.value }
    }

    /// The heads of a checkpoint written by `save(into:)`.
    public func restore(_ state: [String: [Float]], source: String) throws {
        try restoreAuxiliary(auxiliaryParameters, from: state, source: source)
    }
}
