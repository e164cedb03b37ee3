import Foundation
import MTCore

/// Which view of an unlabelled image the student is trained on.
public enum StudentView: String, Sendable {
    /// The rows the targets come from (Pseudo-Label: the prediction is its own target).
    case target
    /// A second weak view (Pi-model, mean teacher: two draws of the same noise).
    case weak
    /// The strong view, RandAugment + Cutout (UDA, FixMatch and its successors).
    case strong
}

/// The unlabelled term of one step: its value, d(term)/d(student logits) [U, K], and the fraction of
/// unlabelled images whose target passed the method's mask.
public struct ConsistencyTerm {
    public var loss: Double
    public var gradient: Tensor
    public var maskRate: Double
}

/// A semi-supervised method: how targets for unlabelled images are made from target logits (the
/// network's own, or an EMA teacher's; constants, no gradient flows into them) and how the student's
/// logits are pulled towards them. One file per method; the loop around them is `SemiSupervisedObjective`.
public protocol ConsistencyMethod: AnyObject {
    var studentView: StudentView { get }
    /// Targets from the weight average (mean teacher) instead of the student's own forward pass.
    var usesTeacher: Bool { get }
    /// - Parameters: targets, students: logits [U, K]; samples: each row's position in the unlabelled pool;
    ///   progress: fraction of the training steps done, in [0, 1].
    func consistency(targets: Tensor, students: Tensor, samples: [Int], progress: Double) -> ConsistencyTerm
    /// Per-sample weights of the supervised term (UDA's training-signal annealing); nil: all 1.
    func supervisedMask(logits: Tensor, labels: [Int32], progress: Double) -> [Float]?
    /// What an exact resume needs (per-sample pseudo-label memory, running marginals), by name.
    func saveState(into state: inout [String: [Float]])
    func restoreState(_ state: [String: [Float]], source: String) throws
}

extension ConsistencyMethod {
    public var usesTeacher: Bool { false }
    public func supervisedMask(logits: Tensor, labels: [Int32], progress: Double) -> [Float]? { nil }
    public func saveState(into state: inout [String: [Float]]) {}
    public func restoreState(_ state: [String: [Float]], source: String) throws {}
}

/// The arithmetic the methods share, in float64 over logits [U, K].
public enum ConsistencyMath {
    /// Row-wise softmax of (logits + shift[k]) / temperature, flattened [U * K].
    public static func softmax(_ logits: Tensor, temperature: Double = 1, shift: [Double]? = nil) -> [Double] {
        let u = logits.batch, k = logits.sampleSize
        var p = [Double](repeating: 0, count: u * k)
        for i in 0..<u {
            var maximum = -Double.infinity
            for j in 0..<k {
                p[i * k + j] = (Double(logits.data[i * k + j]) + (shift?[j] ?? 0)) / temperature
                maximum = max(maximum, p[i * k + j])
            }
            var sum = 0.0
            for j in 0..<k {
                p[i * k + j] = exp(p[i * k + j] - maximum)
                sum += p[i * k + j]
            }
            for j in 0..<k { p[i * k + j] /= sum }
        }
        return p
    }

    /// Each row's largest probability and its class.
    public static func confidence(_ p: [Double], classes k: Int) -> [(value: Double, label: Int)] {
        stride(from: 0, to: p.count, by: k).map { row in
            var best = 0
            for j in 1..<k where p[row + j] > p[row + best] { best = j }
            return (p[row + best], best)
        }
    }

    /// One-hot rows [U * K].
    public static func oneHot(_ labels: [Int], classes k: Int) -> [Double] {
        var q = [Double](repeating: 0, count: labels.count * k)
        for (i, label) in labels.enumerated() { q[i * k + label] = 1 }
        return q
    }

    /// The hard-target term of Pseudo-Label and FixMatch: each target row's most likely class, kept where
    /// its probability reaches `threshold`, as the cross-entropy target of the student's row.
    public static func confidentHardTargets(_ targets: Tensor, _ students: Tensor, threshold: Double) -> ConsistencyTerm {
        let k = targets.sampleSize
        let best = confidence(softmax(targets), classes: k)
        let mask = best.map { $0.value >= threshold ? 1.0 : 0 }
        let (loss, gradient) = crossEntropy(students, targets: oneHot(best.map(\.label), classes: k), mask: mask)
        return ConsistencyTerm(loss: loss, gradient: gradient, maskRate: mask.reduce(0, +) / Double(max(mask.count, 1)))
    }

    /// Masked cross-entropy against target distributions q (rows summing to 1), averaged over all U rows
    /// (masked rows count in the mean, as in FixMatch):
    ///     loss = (1/U) sum_i m_i sum_k -q_ik log softmax(z_i + b)_k,   dz_i = m_i (softmax(z_i + b) - q_i) / U
    /// `shift` b is added to every row's logits (DebiasMatch's adaptive margin). With `subtractEntropy`
    /// the value is the KL divergence KL(q || p) (UDA); the gradient is the same.
    public static func crossEntropy(_ logits: Tensor, targets q: [Double], mask: [Double], shift: [Double]? = nil,
                                    subtractEntropy: Bool = false) -> (loss: Double, gradient: Tensor) {
        let u = logits.batch, k = logits.sampleSize
        let p = softmax(logits, shift: shift)
        var gradient = Tensor(zeros: logits.shape)
        var total = 0.0
        for i in 0..<u where mask[i] != 0 {
            var term = 0.0
            for j in 0..<k {
                let target = q[i * k + j]
                if target > 0 { term -= target * (log(max(p[i * k + j], 1e-300)) - (subtractEntropy ? log(target) : 0)) }
                gradient.data[i * k + j] = Float(mask[i] * (p[i * k + j] - target) / Double(u))
            }
            total += mask[i] * term
        }
        return (total / Double(u), gradient)
    }

    /// Mean squared difference of the softmax outputs and targets q, averaged over classes and rows:
    ///     loss = (1/U) sum_i (1/K) sum_k (p_ik - q_ik)^2,   dz_ik = p_ik (g_ik - sum_j g_ij p_ij),  g = 2 (p - q) / (U K)
    public static func softmaxSquaredError(_ logits: Tensor, targets q: [Double]) -> (loss: Double, gradient: Tensor) {
        let u = logits.batch, k = logits.sampleSize
        let p = softmax(logits)
        var gradient = Tensor(zeros: logits.shape)
        var total = 0.0
        let scale = 2 / Double(u * k)
        for i in 0..<u {
            var dot = 0.0
            for j in 0..<k {
                let d = p[i * k + j] - q[i * k + j]
                total += d * d
                dot += scale * d * p[i * k + j]
            }
            for j in 0..<k {
                let g = scale * (p[i * k + j] - q[i * k + j])
                gradient.data[i * k + j] = Float(p[i * k + j] * (g - dot))
            }
        }
        return (total / Double(u * k), gradient)
    }
}
