import MTCore

/// Mean Teacher (Tarvainen & Valpola 2017, "Mean teachers are better role models"): the targets come from
/// an exponential moving average of the student's weights (`WeightAverage`, decay 0.99 as the paper's
/// ramp-up phase), on another weak view; the squared difference of the softmax outputs, its weight ramped
/// up with exp(-5 (1 - t)^2). The teacher runs in evaluation mode (its batch-norm running statistics).
public final class MeanTeacherMethod: ConsistencyMethod {
    public init() {}
    public var studentView: StudentView { .weak }
    public var usesTeacher: Bool { true }

    public func consistency(targets: Tensor, students: Tensor, samples: [Int], progress: Double) -> ConsistencyTerm {
        let (loss, gradient) = ConsistencyMath.softmaxSquaredError(students, targets: ConsistencyMath.softmax(targets))
        return ConsistencyTerm(loss: loss, gradient: gradient, maskRate: 1)
    }
}
