import MTCore

/// How well a classifier checkpoint predicts a labelled data set: top-1 and top-5 accuracy, accuracy per
/// class and the confusion matrix (rows true class, columns predicted). Samples with label -1 are skipped.
public struct ModelAccuracy: Sendable {
    public var evaluated: Int
    public var top1: Double
    public var top5: Double
    public var classNames: [String]
    /// [K, K] counts, row = true class, column = predicted.
    public var confusion: [[Int]]

    public var perClass: [Double] {
        confusion.enumerated().map { row, counts in
            let total = counts.reduce(0, +)
            return total == 0 ? .nan : Double(counts[row]) / Double(total)
        }
    }

    /// Scores precomputed logits [N, K] against labels.
    public init(logits: [Float], classes k: Int, labels: [Int32], classNames: [String]) {
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: k), count: k)
        var right1 = 0, right5 = 0, evaluated = 0
        for (i, label) in labels.enumerated() where label >= 0 && Int(label) < k {
            let row = logits[(i * k)..<((i + 1) * k)]
            let ranked = row.indices.sorted { row[$0] > row[$1] || (row[$0] == row[$1] && $0 < $1) }.map { $0 - i * k }
            evaluated += 1
            if ranked[0] == Int(label) { right1 += 1 }
            if ranked.prefix(5).contains(Int(label)) { right5 += 1 }
            confusion[Int(label)][ranked[0]] += 1
        }
        self.evaluated = evaluated
        top1 = Double(right1) / Double(max(evaluated, 1))
        top5 = Double(right5) / Double(max(evaluated, 1))
        self.classNames = classNames.count == k ? classNames : (0..<k).map(String.init)
        self.confusion = confusion
    }

    /// The same numbers as a metrics run (kind `model`), so `mt-eval model` reports, writes JSON and
    /// metrics files, and draws its confusion matrix exactly as `mt-eval pseudo` does.
    public func run(name: String, source: String) -> MetricsRun {
        MetricsRun(name: name, source: source, kind: "model",
                          scalars: [.init("evaluated", Double(evaluated)), .init("accuracy", top1), .init("top5_accuracy", top5)],
                          classNames: classNames, confusion: confusion.flatMap { $0 },
                          perClass: [.init("accuracy", perClass), .init("support", confusion.map { Double($0.reduce(0, +)) })],
                          curves: [])
    }
}
