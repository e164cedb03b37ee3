import MTCore

/// Pseudo-Label (Lee 2013, "Pseudo-Label: the simple and efficient semi-supervised learning method"): each
/// unlabelled image is trained towards its own most likely class, when the network is confident enough
/// (`threshold`, TLlib's 0.95; Lee used none and ramped the weight up instead).
public final class PseudoLabelMethod: ConsistencyMethod {
    public let threshold: Double
    public init(threshold: Double = 0.95) { self.threshold = threshold }
    public var studentView: StudentView { .target }

    public func consistency(targets: Tensor, students: Tensor, samples: [Int], progress: Double) -> ConsistencyTerm {
        let k = targets.sampleSize
        let best = ConsistencyMath.confidence(ConsistencyMath.softmax(targets), classes: k)
        let mask = best.map { $0.value >= threshold ? 1.0 : 0 }
        let (loss, gradient) = ConsistencyMath.crossEntropy(students, targets: ConsistencyMath.oneHot(best.map(\.label), classes: k), mask: mask)
        return ConsistencyTerm(loss: loss, gradient: gradient, maskRate: mask.reduce(0, +) / Double(max(mask.count, 1)))
    }
}
