import MTCore

/// How `mt-select split` draws the labelled subset.
public enum SplitRule: Equatable, Sendable {
    /// The first n samples of each class in a seeded permutation (the paper's protocol).
    case perClass(Int)
    /// The first N samples of a seeded permutation, whatever their class.
    case total(Int)
}

/// Draws labelled/unlabelled splits. Samples whose label is unknown (-1) are never labelled.
public enum LabeledSplit {
    public static func draw(labels: [Int32], classCount: Int, rule: SplitRule, seed: UInt64) throws -> (split: Split, diagnostics: Diagnostics) {
        var diagnostics = Diagnostics()
        var generator = SeededGenerator(seed: seed)
        let known = labels.indices.filter { labels[$0] >= 0 }
        let order = known.shuffled(using: &generator)
        var chosen: [Int] = []
        switch rule {
        case .perClass(let wanted):
            guard wanted >= 1 else { throw MTError.usage("--per-class must be at least 1") }
            var taken = [Int](repeating: 0, count: classCount)
            for index in order where taken[Int(labels[index])] < wanted {
                taken[Int(labels[index])] += 1
                chosen.append(index)
            }
            if let short = taken.indices.first(where: { taken[$0] < wanted }) {
                diagnostics.warn("class \(short) has only \(taken[short]) labelled samples, fewer than --per-class \(wanted)")
            }
        case .total(let wanted):
            guard wanted >= 1, wanted <= known.count else {
                throw MTError.usage("--labeled must be between 1 and \(known.count) (samples with a known label)")
            }
            chosen = Array(order.prefix(wanted))
        }
        chosen.sort()
        var isLabeled = [Bool](repeating: false, count: labels.count)
        for index in chosen { isLabeled[index] = true }
        let split = Split(labeled: chosen, labeledLabels: chosen.map { labels[$0] },
                          unlabeled: labels.indices.filter { !isLabeled[$0] }, sampleCount: labels.count, classCount: classCount)
        return (split, diagnostics)
    }
}
