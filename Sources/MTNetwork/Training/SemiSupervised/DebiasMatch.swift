import Foundation
import MTCore

/// DebiasMatch (DebiasPL: Wang et al. 2022, "Debiased learning from naturally imbalanced pseudo-labels"):
/// FixMatch whose pseudo-labels are debiased by the running marginal of its own predictions. q is an
/// exponential moving average (`momentum` 0.999) of the mean weak-view softmax; the target is the class
/// of softmax(z_weak - tau log q) when it reaches `threshold` (0.95), and the strong view is trained with
/// the adaptive margin, cross-entropy of z_strong + tau log q (tau 0.5), so frequent classes must win by more.
public final class DebiasMatchMethod: ConsistencyMethod {
    public let threshold: Double
    public let tau: Double
    public let momentum: Double
    /// The running marginal q of the predictions, uniform at the start; float32 (updated in float64), so
    /// that the checkpoint holds it exactly and a resumed run continues bit for bit.
    public private(set) var marginal: [Float]

    public init(classes: Int, threshold: Double = 0.95, tau: Double = 0.5, momentum: Double = 0.999) {
        self.threshold = threshold
        self.tau = tau
        self.momentum = momentum
        marginal = [Float](repeating: 1 / Float(classes), count: classes)
    }

    public var studentView: StudentView { .strong }

    public func consistency(targets: Tensor, students: Tensor, samples: [Int], progress: Double) -> ConsistencyTerm {
        let k = targets.sampleSize, u = targets.batch
        let p = ConsistencyMath.softmax(targets)
        for j in 0..<k {
            var mean = 0.0
            for i in 0..<u { mean += p[i * k + j] }
            marginal[j] = Float(momentum * Double(marginal[j]) + (1 - momentum) * mean / Double(u))
        }
        let logMarginal = marginal.map { log(max(Double($0), 1e-12)) }
        let debiased = ConsistencyMath.softmax(targets, shift: logMarginal.map { -tau * $0 })
        let best = ConsistencyMath.confidence(debiased, classes: k)
        let mask = best.map { $0.value >= threshold ? 1.0 : 0 }
        let (loss, gradient) = ConsistencyMath.crossEntropy(students, targets: ConsistencyMath.oneHot(best.map(\.label), classes: k),
                                                            mask: mask, shift: logMarginal.map { tau * $0 })
        return ConsistencyTerm(loss: loss, gradient: gradient, maskRate: mask.reduce(0, +) / Double(max(mask.count, 1)))
    }

    public func saveState(into state: inout [String: [Float]]) { state["debiasmatch.marginal"] = marginal }

    public func restoreState(_ state: [String: [Float]], source: String) throws {
        guard let stored = state["debiasmatch.marginal"], stored.count == marginal.count else {
            throw MTError.badInput(source, "/training/debiasmatch.marginal", "expected float32 [\(marginal.count)] (the running class marginal)")
        }
        marginal = stored
    }
}
