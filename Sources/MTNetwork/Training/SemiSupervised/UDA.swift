import Foundation
import MTCore

/// Training-signal annealing schedules of UDA: how fast the supervised confidence ceiling rises.
public enum AnnealingSchedule: String, CaseIterable, Codable, Sendable {
    case none, linear, log, exp

    /// alpha_t for progress t in [0, 1] (UDA's linear, log and exp schedules).
    func alpha(_ t: Double) -> Double {
        switch self {
        case .none: 1
        case .linear: t
        case .log: 1 - Foundation.exp(-5 * t)
        case .exp: Foundation.exp(5 * (t - 1))
        }
    }
}

/// UDA (Xie et al. 2020, "Unsupervised data augmentation for consistency training"): the weak view's
/// prediction sharpened with `temperature` (0.4) is the target of the strong view, KL divergence, only
/// where the weak prediction is confident (`threshold` 0.8). Optional training-signal annealing (`tsa`):
/// a labelled sample whose correct-class probability already exceeds eta_t = alpha_t (1 - 1/K) + 1/K
/// leaves the supervised loss.
public final class UDAMethod: ConsistencyMethod {
    public let temperature: Double
    public let threshold: Double
    public let tsa: AnnealingSchedule

    public init(temperature: Double = 0.4, threshold: Double = 0.8, tsa: AnnealingSchedule = .none) {
        self.temperature = temperature
        self.threshold = threshold
        self.tsa = tsa
    }

    public var studentView: StudentView { .strong }

    public func consistency(targets: Tensor, students: Tensor, samples: [Int], progress: Double) -> ConsistencyTerm {
        let k = targets.sampleSize
        let best = ConsistencyMath.confidence(ConsistencyMath.softmax(targets), classes: k)
        let mask = best.map { $0.value >= threshold ? 1.0 : 0 }
        let sharpened = ConsistencyMath.softmax(targets, temperature: temperature)
        let (loss, gradient) = ConsistencyMath.crossEntropy(students, targets: sharpened, mask: mask, subtractEntropy: true)
        return ConsistencyTerm(loss: loss, gradient: gradient, maskRate: mask.reduce(0, +) / Double(max(mask.count, 1)))
    }

    public func supervisedMask(logits: Tensor, labels: [Int32], progress: Double) -> [Float]? {
        guard tsa != .none else { return nil }
        let k = logits.sampleSize
        let eta = tsa.alpha(progress) * (1 - 1 / Double(k)) + 1 / Double(k)
        let p = ConsistencyMath.softmax(logits)
        return labels.enumerated().map { i, label in p[i * k + Int(label)] > eta ? 0 : 1 }
    }
}
