import MTCore

/// FixMatch (Sohn et al. 2020, "FixMatch: simplifying semi-supervised learning with consistency and
/// confidence"): the weak view's most likely class is the hard target of the strong view, where the weak
/// prediction reaches `threshold` (0.95); cross-entropy averaged over all mu * B unlabelled images.
public final class FixMatchMethod: ConsistencyMethod {
    public let threshold: Double
    public init(threshold: Double = 0.95) { self.threshold = threshold }
    public var studentView: StudentView { .strong }

    public func consistency(targets: Tensor, students: Tensor, samples: [Int], progress: Double) -> ConsistencyTerm {
        ConsistencyMath.confidentHardTargets(targets, students, threshold: threshold)
    }
}
