import Foundation
import MTCore

/// Multinomial logistic regression, softmax(x W^T + b), fitted by full-batch gradient descent with
/// momentum from zero on the mean cross-entropy plus (weightDecay / 2) ||W||^2:
///
///     G = (softmax(X W^T + b) - Y) / N,   dW^T = X^T G + weightDecay W^T,   db = column sums of G
///     v <- momentum v + d,   theta <- theta - learningRate v
///
/// The linear probe of frozen features (`mt-eval metric --linear`) and ReLaB's cleaning classifier
/// (`mt-select clean`). Deterministic: the products are `BLAS.tallProduct`/`tallTransposedProduct`, whose
/// bits do not depend on the thread count; the softmax is float64 per row.
public struct LogisticRegression: Sendable {
    public var epochs: Int
    public var learningRate: Double
    public var momentum: Double
    public var weightDecay: Double

    public init(epochs: Int = 200, learningRate: Double = 1, momentum: Double = 0.9, weightDecay: Double = 5e-4) {
        precondition(epochs >= 1 && learningRate > 0 && momentum >= 0 && weightDecay >= 0)
        self.epochs = epochs
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
    }

    /// A fitted model: W^T [D, K] and b [K].
    public struct Model: Sendable {
        public var weights: [Float]
        public var bias: [Double]
        public var dimension: Int
        public var classes: Int
        /// The training loss (mean cross-entropy) before the last update.
        public var finalLoss: Double

        /// Logits [N, K] of `features` [N, D].
        func logits(_ features: [Float]) -> [Float] {
            let n = features.count / dimension
            var z = [Float](repeating: 0, count: n * classes)
            features.withUnsafeBufferPointer { x in
                weights.withUnsafeBufferPointer { w in
                    z.withUnsafeMutableBufferPointer { out in
                        BLAS.singleThreaded {
                            BLAS.tallProduct(x.baseAddress!, lda: dimension, w.baseAddress!, rows: n, p: dimension, width: classes,
                                             into: out.baseAddress!, ldy: classes)
                        }
                    }
                }
            }
            return z
        }

        /// Class probabilities [N, K] of `features` [N, D], float64.
        public func probabilities(_ features: [Float]) -> [Double] {
            let z = logits(features), k = classes
            var p = [Double](repeating: 0, count: z.count)
            for i in 0..<(z.count / k) {
                var maximum = -Double.infinity
                for c in 0..<k { maximum = max(maximum, Double(z[i * k + c]) + bias[c]) }
                var sum = 0.0
                for c in 0..<k {
                    p[i * k + c] = exp(Double(z[i * k + c]) + bias[c] - maximum)
                    sum += p[i * k + c]
                }
                for c in 0..<k { p[i * k + c] /= sum }
            }
            return p
        }

        /// The most likely class of each row (ties to the lower class).
        public func predict(_ features: [Float]) -> [Int] { Argmax.rows(probabilities(features), columns: classes) }
    }

    /// Fits `features` [N, D] to `labels` (0..<classes, all known).
    public func fit(_ features: [Float], dimension d: Int, labels: [Int32], classes k: Int) -> Model {
        let n = labels.count
        precondition(features.count == n * d && n > 0 && labels.allSatisfy { $0 >= 0 && Int($0) < k })
        var model = Model(weights: [Float](repeating: 0, count: d * k), bias: [Double](repeating: 0, count: k), dimension: d, classes: k,
                          finalLoss: .nan)
        var weightVelocity = [Float](repeating: 0, count: d * k), biasVelocity = [Double](repeating: 0, count: k)
        var gradient = [Float](repeating: 0, count: n * k), weightGradient = [Float](repeating: 0, count: d * k)
        for _ in 0..<epochs {
            let p = model.probabilities(features)
            var loss = 0.0
            var biasGradient = [Double](repeating: 0, count: k)
            for i in 0..<n {
                let label = Int(labels[i])
                loss -= log(max(p[i * k + label], 1e-300))
                for c in 0..<k {
                    let g = (p[i * k + c] - (c == label ? 1 : 0)) / Double(n)
                    gradient[i * k + c] = Float(g)
                    biasGradient[c] += g
                }
            }
            model.finalLoss = loss / Double(n)
            features.withUnsafeBufferPointer { x in
                gradient.withUnsafeBufferPointer { g in
                    weightGradient.withUnsafeMutableBufferPointer { dw in
                        BLAS.singleThreaded {
                            BLAS.tallTransposedProduct(x.baseAddress!, lda: d, g.baseAddress!, ldb: k, rows: n, p: d, width: k, into: dw.baseAddress!)
                        }
                    }
                }
            }
            let m = Float(momentum), lr = Float(learningRate), decay = Float(weightDecay)
            for j in 0..<(d * k) {
                weightVelocity[j] = m * weightVelocity[j] + weightGradient[j] + decay * model.weights[j]
                model.weights[j] -= lr * weightVelocity[j]
            }
            for c in 0..<k {
                biasVelocity[c] = momentum * biasVelocity[c] + biasGradient[c]
                model.bias[c] -= learningRate * biasVelocity[c]
            }
        }
        return model
    }
}
