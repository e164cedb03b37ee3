/// Counts of (true class, predicted class) pairs over `classes` classes: the confusion matrix every
/// evaluation reports. `counts` is row-major [classes, classes], row = true class, column = predicted.
/// A pair whose true label is unknown (negative, -1 on disk) is skipped.
public struct ConfusionMatrix: Sendable, Equatable {
    public let classes: Int
    public private(set) var counts: [Int]

    public init(classes: Int) {
        precondition(classes >= 0)
        self.classes = classes
        counts = [Int](repeating: 0, count: classes * classes)
    }

    /// Counts the pairs (truth[i], predicted[i]).
    public init(truth: [Int32], predicted: [Int32], classes: Int) {
        precondition(truth.count == predicted.count)
        self.init(classes: classes)
        for (label, guess) in zip(truth, predicted) { add(truth: Int(label), predicted: Int(guess)) }
    }

    /// Counts one pair; a negative `truth` (unknown) is skipped.
    public mutating func add(truth: Int, predicted: Int) {
        guard truth >= 0 else { return }
        precondition(truth < classes && predicted >= 0 && predicted < classes)
        counts[truth * classes + predicted] += 1
    }

    public subscript(truth: Int, predicted: Int) -> Int { counts[truth * classes + predicted] }

    /// The counts of true class `truth`, by predicted class.
    public func row(_ truth: Int) -> [Int] { Array(counts[(truth * classes)..<((truth + 1) * classes)]) }

    /// Pairs counted.
    public var evaluated: Int { counts.reduce(0, +) }

    /// Pairs on the diagonal (predicted right).
    public var correct: Int { (0..<classes).reduce(0) { $0 + self[$1, $1] } }

    /// Samples of true class c.
    public func support(_ c: Int) -> Int { (0..<classes).reduce(0) { $0 + self[c, $1] } }

    /// Samples predicted c.
    public func predictedCount(_ c: Int) -> Int { (0..<classes).reduce(0) { $0 + self[$1, c] } }

    /// Fraction of the samples of class c predicted c (the per-class accuracy); NaN when the class has none.
    public func recall(_ c: Int) -> Double {
        let total = support(c)
        return total > 0 ? Double(self[c, c]) / Double(total) : .nan
    }

    /// Fraction of the samples predicted c that are c; NaN when nothing was predicted c.
    public func precision(_ c: Int) -> Double {
        let total = predictedCount(c)
        return total > 0 ? Double(self[c, c]) / Double(total) : .nan
    }
}
