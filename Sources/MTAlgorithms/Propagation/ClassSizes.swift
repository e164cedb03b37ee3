import MTCore

extension PseudoLabels {
    /// The predicted class sizes of the unlabelled samples against the prior the propagation applied
    /// (`prior_marginals`), or else the class frequencies of the labelled ones (the prior a balanced split
    /// implies): a note with every class's share, and a warning for each
    /// class predicted for under 0.7 or over 1.3 times its share (MNIST's true class sizes lie within 0.9 and
    /// 1.12 of a tenth; the bad one-label draw of issue 20 put 13.4 % and 5.3 % into two classes). With
    /// one label per class that is the sign
    /// of a bad draw: a labelled example near another class's region takes that class's samples (or loses
    /// its own), and finetuning on the result cannot undo it.
    public func classSizeDiagnostics() -> Diagnostics {
        var diagnostics = Diagnostics()
        var predicted = [Int](repeating: 0, count: classCount), given = [Int](repeating: 0, count: classCount)
        for index in unlabeledIndices { predicted[Int(labels[index])] += 1 }
        for label in labeledLabels { given[Int(label)] += 1 }
        let unlabeled = predicted.reduce(0, +)
        guard unlabeled > 0, !labeledLabels.isEmpty else { return diagnostics }
        func percent(_ x: Double) -> String { String(format: "%.1f%%", 100 * x) }
        let shares = predicted.map { Double($0) / Double(unlabeled) }
        // Against the prior the propagation was balanced to, if any (then a warning means the balancing
        // could not reach it), else the labelled shares.
        var prior = given.map { Double($0) / Double(labeledLabels.count) }
        var reference = "labelled share"
        if case .doubles(let marginals)? = parameters["prior_marginals"], marginals.count == classCount {
            prior = marginals
            reference = "prior"
        }
        diagnostics.note("predicted class shares (\(reference)): "
                         + (0..<classCount).map { "\($0): \(percent(shares[$0])) (\(percent(prior[$0])))" }.joined(separator: ", "))
        for c in 0..<classCount where prior[c] > 0 && (shares[c] > 1.3 * prior[c] || shares[c] < 0.7 * prior[c]) {
            let examples = zip(labeled, labeledLabels).filter { $0.1 == Int32(c) }.map(\.0)
            let named = examples.count <= 3 ? " (sample\(examples.count == 1 ? "" : "s") \(examples.map(String.init).joined(separator: ", ")))" : ""
            let which = examples.count == 1 ? "its only labelled example\(named)" : "its labelled examples\(named)"
            diagnostics.warn("class \(c) holds \(percent(shares[c])) of the predictions against \(percent(prior[c])) (\(reference)): "
                             + which + (shares[c] > prior[c] ? " may sit near another class" : " may be atypical")
                             + (reference == "prior" ? "" : "; check, or balance with --prior uniform"))
        }
        return diagnostics
    }
}

extension PseudoLabels {
    /// How many nearest samples each labelled example's check looks at.
    public static let neighbourhoodSize = 20

    /// The other check of a bad draw, per labelled example: of its nearest samples in the method's own
    /// sense (`neighbours[slot]` for `labeled[slot]`: the metric's nearest rows for kNN voting, the graph's
    /// edges for spreading, the strongest entries of the cut's kernel V diag(1 / (lambda - alpha)) V^T for
    /// the normalised cut), how many were given its label. A warning when it is under half: the example
    /// sits in a region the propagation assigns to another class, the sign of an atypical example (or a
    /// wrong label) before an hour of finetuning is spent on it. `space` names the neighbourhood.
    public func neighbourhoodDiagnostics(neighbours: [[Int]], space: String) -> Diagnostics {
        precondition(neighbours.count == labeled.count)
        var warnings: [String] = []
        for (slot, sample) in labeled.enumerated() where !neighbours[slot].isEmpty {
            let label = labeledLabels[slot]
            var votes = [Int](repeating: 0, count: classCount)
            for neighbour in neighbours[slot] where neighbour != sample { votes[Int(labels[neighbour])] += 1 }
            let total = votes.reduce(0, +)
            guard total > 0, 2 * votes[Int(label)] < total else { continue }
            let other = votes.indices.filter { $0 != Int(label) }.max { votes[$0] < votes[$1] }!
            warnings.append("sample \(sample) (labelled \(label)) may be atypical: only \(votes[Int(label)]) of its \(total) nearest samples (\(space)) were given its label, \(votes[other]) went to class \(other)")
        }
        // Many labels give many borderline examples; the first few say what is wrong.
        let shown = 10
        var diagnostics = Diagnostics(warnings: Array(warnings.prefix(shown)))
        if warnings.count > shown { diagnostics.warn("... and \(warnings.count - shown) more labelled samples like these") }
        return diagnostics
    }
}

extension KNNGraph {
    /// Row `row`'s first `limit` neighbours other than sample `excluded` (the queried sample itself).
    func neighbours(of row: Int, excluding excluded: Int, limit: Int = PseudoLabels.neighbourhoodSize) -> [Int] {
        var found: [Int] = []
        for position in 0..<k where found.count < limit {
            let neighbour = Int(neighbors[row * k + position])
            if neighbour >= 0 && neighbour != excluded { found.append(neighbour) }
        }
        return found
    }
}
