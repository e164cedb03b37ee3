import MTCore

/// Pseudo-Label (Lee 2013, "Pseudo-Label: the simple and efficient semi-supervised learning method"): each
/// unlabelled image is trained towards its own most likely class, when the network is confident enough
/// (`threshold`, TLlib's 0.95; Lee used none and ramped the weight up instead).
public final class PseudoLabelMethod: ConsistencyMethod {
    public let threshold: Double
    public init(threshold: Double = 0.95) { self.threshold = threshold }
    public var studentView: StudentView { .target }

    public func consistency(targets: Tensor, students: Tensor, samples: [Int], progress: Double) -> ConsistencyTerm {
        ConsistencyMath.confidentHardTargets(targets, students, threshold: threshold)
    }
}
