import Foundation
import MTCore

/// ReLaB's label cleaning (Albert et al. 2021, "ReLaB: reliable label bootstrapping"): a classifier trained
/// on *all* propagated labels fits the consistent ones first, so the samples it still finds costly are
/// the likely mistakes. Here the classifier is multinomial logistic regression on the frozen features
/// (softmax(x W^T + b)), trained by full-batch gradient descent with momentum on the mean cross-entropy
/// plus L2 on W, from zero, for `epochs` steps; every unlabelled sample is then scored by the probability
/// the classifier gives its propagated label, exp(-loss), and each class keeps the `perClass` samples with
/// the smallest loss (`SelectionStrategy.smallLoss`). Deterministic: the products are
/// `BLAS.tallProduct`/`tallTransposedProduct`, whose bits do not depend on the thread count.
public struct PseudoLabelCleaning: Sendable {
    public var perClass: Int
    public var epochs: Int
    public var learningRate: Double
    public var momentum: Double
    public var weightDecay: Double
    public var weighting: SelectionWeighting

    public init(perClass: Int, epochs: Int = 200, learningRate: Double = 1, momentum: Double = 0.9, weightDecay: Double = 5e-4,
                weighting: SelectionWeighting = .confidence) {
        precondition(perClass >= 0 && epochs >= 1 && learningRate > 0)
        self.perClass = perClass
        self.epochs = epochs
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.weighting = weighting
    }

    /// The classifier's probability of each sample's label, [N], and how often its argmax agrees.
    public func scores(features: [Float], dimension d: Int, labels: [Int32], classes k: Int) -> (scores: [Float], agreement: Double, loss: Double) {
        let n = labels.count
        precondition(features.count == n * d && n > 0)
        var weights = [Float](repeating: 0, count: d * k)  // W^T, [D, K]
        var bias = [Double](repeating: 0, count: k)
        var weightVelocity = [Float](repeating: 0, count: d * k), biasVelocity = [Double](repeating: 0, count: k)
        var logits = [Float](repeating: 0, count: n * k), gradient = [Float](repeating: 0, count: n * k)
        var weightGradient = [Float](repeating: 0, count: d * k)
        var loss = 0.0
        func forward() {
            features.withUnsafeBufferPointer { x in
                weights.withUnsafeBufferPointer { w in
                    logits.withUnsafeMutableBufferPointer { z in
                        BLAS.singleThreaded { BLAS.tallProduct(x.baseAddress!, lda: d, w.baseAddress!, rows: n, p: d, width: k, into: z.baseAddress!, ldy: k) }
                    }
                }
            }
        }
        for _ in 0..<epochs {
            forward()
            // G = (softmax(z + b) - onehot) / N, in float64 per row; the loss of this step.
            loss = 0
            var biasGradient = [Double](repeating: 0, count: k)
            for i in 0..<n {
                var maximum = -Double.infinity
                for c in 0..<k { maximum = max(maximum, Double(logits[i * k + c]) + bias[c]) }
                var sum = 0.0
                for c in 0..<k { sum += exp(Double(logits[i * k + c]) + bias[c] - maximum) }
                let label = Int(labels[i])
                loss += log(sum) + maximum - (Double(logits[i * k + label]) + bias[label])
                for c in 0..<k {
                    let g = (exp(Double(logits[i * k + c]) + bias[c] - maximum) / sum - (c == label ? 1 : 0)) / Double(n)
                    gradient[i * k + c] = Float(g)
                    biasGradient[c] += g
                }
            }
            loss /= Double(n)
            features.withUnsafeBufferPointer { x in
                gradient.withUnsafeBufferPointer { g in
                    weightGradient.withUnsafeMutableBufferPointer { dw in
                        BLAS.singleThreaded { BLAS.tallTransposedProduct(x.baseAddress!, lda: d, g.baseAddress!, ldb: k, rows: n, p: d, width: k, into: dw.baseAddress!) }
                    }
                }
            }
            let m = Float(momentum), lr = Float(learningRate), decay = Float(weightDecay)
            for j in 0..<(d * k) {
                weightVelocity[j] = m * weightVelocity[j] + weightGradient[j] + decay * weights[j]
                weights[j] -= lr * weightVelocity[j]
            }
            for c in 0..<k {
                biasVelocity[c] = momentum * biasVelocity[c] + biasGradient[c]
                bias[c] -= learningRate * biasVelocity[c]
            }
        }
        forward()
        var scores = [Float](repeating: 0, count: n)
        var agreeing = 0
        for i in 0..<n {
            var maximum = -Double.infinity, best = 0
            for c in 0..<k {
                let z = Double(logits[i * k + c]) + bias[c]
                if z > maximum { (maximum, best) = (z, c) }
            }
            var sum = 0.0
            for c in 0..<k { sum += exp(Double(logits[i * k + c]) + bias[c] - maximum) }
            let label = Int(labels[i])
            scores[i] = Float(exp(Double(logits[i * k + label]) + bias[label] - maximum) / sum)
            if best == label { agreeing += 1 }
        }
        return (scores, Double(agreeing) / Double(n), loss)
    }

    /// The pool: labelled samples, then per class the `perClass` unlabelled samples with the smallest loss.
    /// `features` [N, dimension] row i belongs to sample i of `pseudo`.
    public func clean(_ pseudo: PseudoLabels, features: [Float], dimension: Int, source: String) throws -> (selection: Selection, diagnostics: Diagnostics) {
        let fit = scores(features: features, dimension: dimension, labels: pseudo.labels, classes: pseudo.classCount)
        var (selection, diagnostics) = try PseudoLabelSelection(strategy: .smallLoss(perClass), weighting: weighting)
            .select(pseudo, source: source, scores: fit.scores)
        diagnostics.note(String(format: "cleaning classifier: %d epochs, final loss %.4f, agrees with %.2f%% of the propagated labels",
                                epochs, fit.loss, 100 * fit.agreement))
        selection.parameters["cleaning_epochs"] = .int(epochs)
        selection.parameters["cleaning_lr"] = .double(learningRate)
        selection.parameters["cleaning_momentum"] = .double(momentum)
        selection.parameters["cleaning_weight_decay"] = .double(weightDecay)
        selection.parameters["cleaning_loss"] = .double(fit.loss)
        selection.parameters["cleaning_agreement"] = .double(fit.agreement)
        return (selection, diagnostics)
    }
}
