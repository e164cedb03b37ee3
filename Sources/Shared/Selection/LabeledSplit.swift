/// How `mt-select split` draws the labelled subset.
public enum SplitRule: Equatable, Sendable {
    /// The first n samples of each class in a seeded permutation (the paper's protocol).
    case perClass(Int)
    /// The first N samples of a seeded permutation, whatever their class.
    case total(Int)
}

/// Draws labelled/unlabelled splits. Samples whose label is unknown (-1) are never labelled.
public enum LabeledSplit {
    public static func draw(labels: [Int32], classCount: Int, rule: SplitRule, seed: UInt64) throws -> Split {
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
                Console.warn("class \(short) has only \(taken[short]) labelled samples, fewer than --per-class \(wanted)")
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
        return Split(labeled: chosen, labeledLabels: chosen.map { labels[$0] },
                     unlabeled: labels.indices.filter { !isLabeled[$0] }, sampleCount: labels.count, classCount: classCount)
    }

    /// `mt-select split`: reads labels from a dataset or features file and writes a split file.
    public static func run(input: String, rule: SplitRule, seed: UInt64, output: String) throws {
        let reader = try ArtifactReader(input, expecting: [.dataset, .features])
        let labels = try reader.read("/labels", as: Int32.self, shape: ["N"]).values
        let names = reader.file.exists("/class_names") ? try reader.file.readStrings("/class_names") : []
        let classCount = max(names.count, Int(labels.max() ?? -1) + 1)
        guard classCount > 0 else { throw MTError.badInput(input, "/labels", "expected some known labels (>= 0), found none") }
        let split = try draw(labels: labels, classCount: classCount, rule: rule, seed: seed)
        var attributes: [String: H5AttributeValue] = ["seed": .int(Int(truncatingIfNeeded: seed))]
        switch rule {
        case .perClass(let n): attributes["per_class"] = .int(n)
        case .total(let n): attributes["labeled_total"] = .int(n)
        }
        try split.write(output, inputs: [input], attributes: attributes)
        Console.note("wrote \(output): \(split.labeled.count) labelled, \(split.unlabeled.count) unlabelled")
    }
}
