import Foundation
import MTAlgorithms
import MTCore

/// What a loss returns: its value and d(loss)/d(input), with the same shape as the input.
public struct LossResult: Sendable {
    public var loss: Double
    public var gradient: Tensor
}

/// Softmax cross-entropy over logits [N, K] with integer targets, optional per-sample weights and label
/// smoothing:
///
///     loss = (1/N) * sum_i w_i * sum_k -q_ik log softmax(z_i)_k,   q_i = (1 - eps) onehot(y_i) + eps / K
///
/// With w = 1 this is `F.cross_entropy(z, y, label_smoothing=eps)` (mean reduction); the weights scale each
/// sample's term (pseudo-label confidences) and the mean stays over N, so a batch of low-confidence samples
/// moves the network less. Gradient: dz_ik = w_i (softmax(z_i)_k - q_ik) / N. Computed in float64.
public struct CrossEntropyLoss: Sendable {
    public var labelSmoothing: Float

    public init(labelSmoothing: Float = 0) { self.labelSmoothing = labelSmoothing }

    public func callAsFunction(_ logits: Tensor, targets: [Int32], weights: [Float]? = nil) -> LossResult {
        let n = logits.batch, k = logits.sampleSize
        precondition(targets.count == n && (weights?.count ?? n) == n)
        var gradient = Tensor(zeros: logits.shape)
        let eps = Double(labelSmoothing), invN = 1 / Double(n)
        var total = 0.0
        var probabilities = [Double](repeating: 0, count: k)
        for i in 0..<n {
            let row = i * k
            var maximum = -Double.infinity
            for j in 0..<k { maximum = max(maximum, Double(logits.data[row + j])) }
            var sum = 0.0
            for j in 0..<k {
                probabilities[j] = Foundation.exp(Double(logits.data[row + j]) - maximum)
                sum += probabilities[j]
            }
            let logSum = Foundation.log(sum) + maximum
            let w = Double(weights?[i] ?? 1), target = Int(targets[i])
            var sampleLoss = 0.0
            for j in 0..<k {
                let q = (j == target ? 1 - eps : 0) + eps / Double(k)
                sampleLoss -= q * (Double(logits.data[row + j]) - logSum)
                gradient.data[row + j] = Float(w * (probabilities[j] / sum - q) * invN)
            }
            total += w * sampleLoss
        }
        return LossResult(loss: total * invN, gradient: gradient)
    }

    /// Against target distributions q [N, K] (soft targets, distillation as Hinton et al. 2015) at
    /// temperature T, in float64:
    ///
    ///     loss = (1/N) sum_i w_i T^2 sum_k -q_ik log softmax(z_i / T)_k,   dz_ik = w_i T (softmax(z_i / T)_k - q_ik) / N
    ///
    /// (the T^2 keeps the gradient's size as T changes; at T = 1 and one-hot q it is the hard-label loss).
    /// Label smoothing does not apply.
    public func callAsFunction(_ logits: Tensor, distributions q: [Float], weights: [Float]? = nil, temperature: Double = 1) -> LossResult {
        let n = logits.batch, k = logits.sampleSize
        precondition(q.count == n * k && (weights?.count ?? n) == n && temperature > 0)
        let p = ConsistencyMath.softmax(logits, temperature: temperature)
        var gradient = Tensor(zeros: logits.shape)
        var total = 0.0
        for i in 0..<n {
            let w = Double(weights?[i] ?? 1)
            var sampleLoss = 0.0
            for j in 0..<k {
                let target = Double(q[i * k + j])
                if target > 0 { sampleLoss -= target * Foundation.log(max(p[i * k + j], 1e-300)) }
                gradient.data[i * k + j] = Float(w * temperature * (p[i * k + j] - target) / Double(n))
            }
            total += w * temperature * temperature * sampleLoss
        }
        return LossResult(loss: total / Double(n), gradient: gradient)
    }
}
