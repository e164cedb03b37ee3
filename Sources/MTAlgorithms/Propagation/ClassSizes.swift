import MTCore

extension PseudoLabels {
    /// The predicted class sizes of the unlabelled samples against the class frequencies of the labelled
    /// ones (the prior a balanced split implies): a note with every class's share, and a warning for each
    /// class predicted for under 0.7 or over 1.3 times its share (MNIST's true class sizes lie within 0.9 and
    /// 1.12 of a tenth; the bad one-label draw of issue 20 put 13.4 % and 5.3 % into two classes). With
    /// one label per class that is the sign
    /// of a bad draw: a labelled example near another class's region takes that class's samples (or loses
    /// its own), and finetuning on the result cannot undo it.
    public func classSizeDiagnostics() -> Diagnostics {
        var diagnostics = Diagnostics()
        var isLabeled = [Bool](repeating: false, count: count)
        for index in labeled { isLabeled[index] = true }
        var predicted = [Int](repeating: 0, count: classCount), given = [Int](repeating: 0, count: classCount)
        for (index, label) in labels.enumerated() where !isLabeled[index] { predicted[Int(label)] += 1 }
        for label in labeledLabels { given[Int(label)] += 1 }
        let unlabeled = predicted.reduce(0, +)
        guard unlabeled > 0, !labeledLabels.isEmpty else { return diagnostics }
        func percent(_ x: Double) -> String { String(format: "%.1f%%", 100 * x) }
        let shares = predicted.map { Double($0) / Double(unlabeled) }
        let prior = given.map { Double($0) / Double(labeledLabels.count) }
        diagnostics.note("predicted class shares (labelled share): "
                         + (0..<classCount).map { "\($0): \(percent(shares[$0])) (\(percent(prior[$0])))" }.joined(separator: ", "))
        for c in 0..<classCount where prior[c] > 0 && (shares[c] > 1.3 * prior[c] || shares[c] < 0.7 * prior[c]) {
            diagnostics.warn("class \(c) holds \(percent(shares[c])) of the predictions against \(percent(prior[c])) of the labels: "
                             + (shares[c] > prior[c] ? "its labelled example(s) may sit near another class" : "its labelled example(s) may be atypical")
                             + " (check them, or balance with mt-select pseudo --balance sinkhorn)")
        }
        return diagnostics
    }
}
