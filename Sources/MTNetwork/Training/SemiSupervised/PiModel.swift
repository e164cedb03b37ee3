import MTCore

/// The Pi-model (Laine & Aila 2017, "Temporal ensembling for semi-supervised learning"): two stochastic
/// passes (independent weak augmentations and dropout) of the same image should agree; the squared
/// difference of their softmax outputs, the first pass held constant.
public final class PiModelMethod: ConsistencyMethod {
    public init() {}
    public var studentView: StudentView { .weak }

    public func consistency(targets: Tensor, students: Tensor, samples: [Int], progress: Double) -> ConsistencyTerm {
        let (loss, gradient) = ConsistencyMath.softmaxSquaredError(students, targets: ConsistencyMath.softmax(targets))
        return ConsistencyTerm(loss: loss, gradient: gradient, maskRate: 1)
    }
}
