import MTCore

/// How good pseudo-labels are against the true labels of the samples they were guessed for.
///
/// The accuracy-versus-coverage curve orders the evaluated samples by decreasing confidence (ties by
/// lower sample index) and gives, at each prefix of k samples, the accuracy of that prefix: point k-1 is
/// the accuracy when only the k most confident samples are kept (coverage k/n). Its mean over all n
/// prefixes is the area under the curve, the "AUC" the reference notebooks print next to the accuracy;
/// it rewards confidences that rank right labels above wrong ones. Accuracy at p% coverage is the curve
/// at k = ceil(p/100 * n).
public struct PseudoLabelMetrics: Sendable, Equatable {
    /// Samples evaluated: the unlabelled (or selected) ones whose true label is known.
    public var evaluated: Int
    public var correct: Int
    public var classCount: Int
    /// Running accuracy by decreasing confidence [evaluated].
    public var curve: [Float]
    /// The confidence at each point of the curve [evaluated].
    public var curveConfidence: [Float]
    /// Rows are true classes, columns predicted classes [C,C].
    public var confusion: ConfusionMatrix

    /// The coverages reported everywhere, in percent.
    public static let coverages = [10, 20, 50, 100]

    public var accuracy: Double { evaluated > 0 ? Double(correct) / Double(evaluated) : .nan }

    /// Mean of the running accuracy: the area under the accuracy-coverage curve.
    public var auc: Double {
        guard !curve.isEmpty else { return .nan }
        var total = 0.0
        for value in curve { total += Double(value) }
        return total / Double(curve.count)
    }

    /// The running accuracy at `percent`% coverage.
    public func accuracy(atCoverage percent: Int) -> Double {
        guard evaluated > 0 else { return .nan }
        let k = max(1, (percent * evaluated + 99) / 100)
        return Double(curve[min(k, evaluated) - 1])
    }

    /// Samples of true class c.
    public func support(_ c: Int) -> Int { confusion.support(c) }

    /// Fraction of samples predicted c that are c (NaN when nothing was predicted c).
    public func precision(_ c: Int) -> Double { confusion.precision(c) }

    /// Fraction of samples of class c predicted c (NaN when the class has no evaluated samples).
    public func recall(_ c: Int) -> Double { confusion.recall(c) }

    /// Evaluates predictions for `samples` (sample indices) against `truth` (indexed by sample; -1 unknown,
    /// such samples are skipped).
    public init(samples: [Int], predicted: [Int32], confidence: [Float], truth: [Int32], classCount: Int) {
        precondition(predicted.count == samples.count && confidence.count == samples.count)
        let known = samples.indices.filter { truth[samples[$0]] >= 0 }
        let order = known.sorted { a, b in
            confidence[a] != confidence[b] ? confidence[a] > confidence[b] : samples[a] < samples[b]
        }
        self.classCount = classCount
        evaluated = order.count
        confusion = ConfusionMatrix(classes: classCount)
        curve = []
        curve.reserveCapacity(order.count)
        curveConfidence = order.map { confidence[$0] }
        var right = 0
        for (position, entry) in order.enumerated() {
            let actual = Int(truth[samples[entry]]), guess = Int(predicted[entry])
            confusion.add(truth: actual, predicted: guess)
            if actual == guess { right += 1 }
            curve.append(Float(Double(right) / Double(position + 1)))
        }
        correct = right
    }

    /// Metrics of a pseudo-labels file: every sample outside its labelled set.
    public static func evaluate(_ pseudo: PseudoLabels, truth: [Int32], classCount: Int) -> PseudoLabelMetrics {
        let samples = pseudo.unlabeledIndices
        return PseudoLabelMetrics(samples: samples, predicted: samples.map { pseudo.labels[$0] },
                                  confidence: samples.map { pseudo.confidence[$0] }, truth: truth, classCount: classCount)
    }

    /// Metrics of a selection file: its pseudo-labelled entries (what will be trained on besides the
    /// labelled set), ranked by their stored confidence.
    public static func evaluate(_ selection: Selection, truth: [Int32], classCount: Int) -> PseudoLabelMetrics {
        let entries = selection.labeledCount..<selection.count
        return PseudoLabelMetrics(samples: Array(selection.index[entries]), predicted: Array(selection.labels[entries]),
                                  confidence: Array(selection.confidence[entries]), truth: truth, classCount: classCount)
    }
}

extension PseudoLabelMetrics {
    /// The report form: scalars `evaluated`, `accuracy`, `auc`, `accuracy_at_P` for each coverage P;
    /// per class `precision`, `recall`, `support` and `predicted` (how many were predicted as the class:
    /// against `support`, the class sizes a bad draw of the labels distorts); curves `accuracy_coverage` and
    /// `confidence`.
    public func run(name: String, source: String, kind: String, classNames: [String]) -> MetricsRun {
        precondition(classNames.count == classCount)
        var scalars: [MetricsRun.Scalar] = [.init("evaluated", Double(evaluated)), .init("accuracy", accuracy), .init("auc", auc)]
        for percent in Self.coverages { scalars.append(.init("accuracy_at_\(percent)", accuracy(atCoverage: percent))) }
        let classes = 0..<classCount
        return MetricsRun(name: name, source: source, kind: kind, scalars: scalars, classNames: classNames,
                          confusion: confusion.counts,
                          // Alphabetical, the order the metrics file gives them back in.
                          perClass: [.init("precision", classes.map(precision)),
                                     .init("predicted", classes.map { Double(confusion.predictedCount($0)) }),
                                     .init("recall", classes.map(recall)), .init("support", classes.map { Double(support($0)) })],
                          curves: [.init("accuracy_coverage", curve), .init("confidence", curveConfidence)])
    }
}
