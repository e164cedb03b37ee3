import MTCore

/// FixMatch (Sohn et al. 2020, "FixMatch: simplifying semi-supervised learning with consistency and
/// confidence"): the weak view's most likely class is the hard target of the strong view, where the weak
/// prediction reaches `threshold` (0.95); cross-entropy averaged over all mu * B unlabelled images.
public final class FixMatchMethod: ConsistencyMethod {
    public let threshold: Double
    public init(threshold: Double = 0.95) { self.threshold = threshold }
    public var studentView: StudentView { .strong }

    public func consistency(targets: Tensor, students: Tensor, samples: [Int], progress: Double) -> ConsistencyTerm {
        let k = targets.sampleSize
        let best = ConsistencyMath.confidence(ConsistencyMath.softmax(targets), classes: k)
        let mask = best.map { $0.value >= threshold ? 1.0 : 0 }
        let (loss, gradient) = ConsistencyMath.crossEntropy(students, targets: ConsistencyMath.oneHot(best.map(\.label), classes: k), mask: mask)
        return ConsistencyTerm(loss: loss, gradient: gradient, maskRate: mask.reduce(0, +) / Double(max(mask.count, 1)))
    }
}
