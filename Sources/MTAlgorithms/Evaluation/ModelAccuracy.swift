import MTCore

/// How well a classifier checkpoint predicts a labelled data set: top-1 and top-5 accuracy, accuracy per
/// class and the confusion matrix (rows true class, columns predicted). Samples with label -1 are skipped.
public struct ModelAccuracy: Sendable {
    public var evaluated: Int
    public var top1: Double
    public var top5: Double
    public var classNames: [String]
    /// Row = true class, column = predicted (top-1).
    public var confusion: ConfusionMatrix

    /// Accuracy of each true class (NaN for a class without samples).
    public var perClass: [Double] { (0..<confusion.classes).map(confusion.recall) }

    /// Scores precomputed logits [N, K] against labels.
    public init(logits: [Float], classes k: Int, labels: [Int32], classNames: [String]) {
        var confusion = ConfusionMatrix(classes: k)
        var right5 = 0
        logits.withUnsafeBufferPointer { logits in
            for (i, label) in labels.enumerated() where label >= 0 && Int(label) < k {
                let row = logits.baseAddress! + i * k
                let top1 = Argmax.of(row, count: k)
                confusion.add(truth: Int(label), predicted: top1)
                // Top-5: a label ranks in the first five when fewer than five classes rank above it
                // (higher logit, or equal logit and lower index: the order the top-1 uses).
                let value = row[Int(label)]
                var above = 0
                for c in 0..<k where row[c] > value || (row[c] == value && c < Int(label)) { above += 1 }
                if above < 5 { right5 += 1 }
            }
        }
        evaluated = confusion.evaluated
        top1 = Double(confusion.correct) / Double(max(evaluated, 1))
        top5 = Double(right5) / Double(max(evaluated, 1))
        self.classNames = classNames.count == k ? classNames : (0..<k).map(String.init)
        self.confusion = confusion
    }

    /// The same numbers as a metrics run (kind `model`), so `mt-eval model` reports, writes JSON and
    /// metrics files, and draws its confusion matrix exactly as `mt-eval pseudo` does.
    public func run(name: String, source: String) -> MetricsRun {
        MetricsRun(name: name, source: source, kind: "model",
                          scalars: [.init("evaluated", Double(evaluated)), .init("accuracy", top1), .init("top5_accuracy", top5)],
                          classNames: classNames, confusion: confusion.counts,
                          perClass: [.init("accuracy", perClass),
                                     .init("support", (0..<confusion.classes).map { Double(confusion.support($0)) })],
                          curves: [])
    }
}
