import Foundation
import Testing
@testable import MTCore
@testable import MTStorage
@testable import MTAlgorithms
@testable import MTNetwork
@testable import MTCommand

/// Seven samples, sample 0 labelled, sample 6 of unknown truth. By decreasing confidence the evaluated
/// samples are 3 (wrong), 1 (right), 2 (right), 5 (wrong), 4 (right): running accuracy 0, 1/2, 2/3, 2/4, 3/5.
private let truth: [Int32] = [0, 0, 1, 1, 0, 1, -1]
private let pseudo = PseudoLabels(
    probs: [1, 0, 0, 0.9, 0.1, 0, 0.2, 0.8, 0, 0.95, 0.05, 0, 0.6, 0.4, 0, 0.7, 0.3, 0, 0.01, 0.99, 0],
    labels: [0, 0, 1, 0, 0, 0, 1], confidence: [1, 0.9, 0.8, 0.95, 0.6, 0.7, 0.99], count: 7, classCount: 3,
    labeled: [0], labeledLabels: [0], method: "test")

@Suite struct PseudoLabelMetricsTests {
    let metrics = PseudoLabelMetrics.evaluate(pseudo, truth: truth, classCount: 3)

    @Test func accuracyAndCurve() {
        #expect(metrics.evaluated == 5)
        #expect(metrics.correct == 3)
        #expect(metrics.accuracy == 0.6)
        #expect(metrics.curve == [0, 0.5, Float(2.0 / 3), 0.5, 0.6])
        #expect(metrics.curveConfidence == [0.95, 0.9, 0.8, 0.7, 0.6])
        #expect(abs(metrics.auc - (0 + 0.5 + 2.0 / 3 + 0.5 + 0.6) / 5) < 1e-7)
    }

    @Test func accuracyAtCoverage() {
        #expect(metrics.accuracy(atCoverage: 10) == 0)  // k = ceil(0.5) = 1
        #expect(metrics.accuracy(atCoverage: 20) == 0)  // k = 1
        #expect(abs(metrics.accuracy(atCoverage: 50) - 2.0 / 3) < 1e-7)  // k = ceil(2.5) = 3
        #expect(abs(metrics.accuracy(atCoverage: 100) - 0.6) < 1e-7)
    }

    @Test func perClassAndConfusion() {
        #expect(metrics.confusion.counts == [2, 0, 0, 2, 1, 0, 0, 0, 0])
        #expect(metrics.precision(0) == 0.5)
        #expect(metrics.precision(1) == 1)
        #expect(metrics.recall(0) == 1)
        #expect(metrics.recall(1) == 1.0 / 3)
        #expect(metrics.support(1) == 3)
        #expect(metrics.precision(2).isNaN && metrics.recall(2).isNaN)
    }

    @Test func selectionEvaluatesOnlyItsPseudoLabelledEntries() {
        let selection = Selection(index: [0, 3, 1], labels: [0, 0, 0], weights: [1, 0.95, 0.9], confidence: [1, 0.95, 0.9],
                                  labeledCount: 1, sampleCount: 7, classCount: 3, strategy: "ratio")
        let metrics = PseudoLabelMetrics.evaluate(selection, truth: truth, classCount: 3)
        #expect(metrics.evaluated == 2)
        #expect(metrics.curve == [0, 0.5])
    }

    @Test func nothingToEvaluate() {
        let empty = PseudoLabelMetrics(samples: [], predicted: [], confidence: [], truth: [], classCount: 2)
        #expect(empty.accuracy.isNaN && empty.auc.isNaN && empty.accuracy(atCoverage: 50).isNaN)
    }

    @Test func reportRunNamesEveryNumber() {
        let run = metrics.run(name: "knn", source: "knn.h5", kind: "pseudo-labels", classNames: ["a", "b", "c"])
        #expect(run.scalars.map(\.name) == ["evaluated", "accuracy", "auc", "accuracy_at_10", "accuracy_at_20",
                                            "accuracy_at_50", "accuracy_at_100"])
        #expect(run.scalar("evaluated") == 5)
        #expect(run.perClass("support") == [2, 3, 0])
        #expect(run.curve("accuracy_coverage") == metrics.curve)
    }
}

@Suite struct MetricsReportTests {
    let run = PseudoLabelMetrics.evaluate(pseudo, truth: truth, classCount: 3)
        .run(name: "knn", source: "knn.h5", kind: "pseudo-labels", classNames: ["a", "b", "c"])

    @Test func textTable() {
        let text = MetricsReport.text([run])
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines[0].hasPrefix("run"))
        #expect(lines[0].contains("acc@50%"))
        #expect(lines[2] == "knn  pseudo-labels          5     60.00  45.33     0.00     0.00    66.67     60.00")
        #expect(text.contains("confusion (rows true, columns predicted)"))
    }

    @Test func jsonHasEveryNumberAndNullForUndefined() throws {
        let object = try JSONSerialization.jsonObject(with: try MetricsReport.json([run])) as! [String: Any]
        let first = (object["runs"] as! [[String: Any]])[0]
        let scalars = first["scalars"] as! [String: Any]
        #expect(scalars["accuracy"] as? Double == 0.6)
        #expect(scalars["evaluated"] as? Double == 5)
        let perClass = first["per_class"] as! [String: [Any]]
        #expect(perClass["precision"]?[2] is NSNull)
        #expect(first["confusion"] as? [[Int]] == [[2, 0, 0], [2, 1, 0], [0, 0, 0]])
        let curve = (first["curves"] as! [String: [String: [Double]]])["accuracy_coverage"]!
        #expect(curve["coverage"]?.count == 100)
        #expect(curve["values"]?.last == 0.6000000238418579)
    }

    @Test func metricsFileRoundTrip() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mt-metrics-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Two classes, so that no precision is NaN (NaN != NaN would defeat the comparison).
        let twoClass = PseudoLabelMetrics(samples: [0, 1, 2], predicted: [0, 1, 1], confidence: [0.9, 0.8, 0.7],
                                          truth: [0, 1, 0], classCount: 2)
        let runs = [run(twoClass, "first"), run(twoClass, "second")]
        try MetricsFile.write(runs, to: directory + "/m.h5", inputs: ["x.h5"])
        #expect(try MetricsFile.read(directory + "/m.h5") == runs)
    }

    private func run(_ metrics: PseudoLabelMetrics, _ name: String) -> MetricsRun {
        metrics.run(name: name, source: "\(name).h5", kind: "pseudo-labels", classNames: ["zero", "one"])
    }

    @Test func tableAlignsColumns() {
        var table = ReportTable(["name", "value"])
        table.add(["a", "1"])
        table.add(["longer", "100"])
        #expect(table.render() == "name    value\n------  -----\na           1\nlonger    100\n")
    }
}
