import Foundation
import TestSupport
import Testing
@testable import MTCore
@testable import MTStorage
@testable import MTAlgorithms
@testable import MTNetwork
@testable import MTCommand

@Suite("Metric evaluation (weighted kNN of held-out features)")
struct MetricEvaluationTests {
    /// Three classes on three axes of R^3 (slightly spread), queries near the axes.
    static let train: [Float] = [1, 0.1, 0, 1, 0, 0.1, 0.1, 1, 0, 0, 1, 0.1, 0, 0.1, 1, 0.1, 0, 1]
    static let trainLabels: [Int32] = [0, 0, 1, 1, 2, 2]

    /// The monitor is kNN voting over the labelled reference rows, the same search and vote as `mt-knn`.
    static func classify(_ queries: [Float], labels: [Int32] = trainLabels, k: Int, temperature: Double = 0.07) throws -> [Int32]? {
        try KNNVoting.classify(RowMatrix(queries, count: queries.count / 3, dimension: 3), reference: Self.train,
                               referenceLabels: labels, dimension: 3, k: k, temperature: temperature)
    }

    @Test func votesByNearestLabelledRows() throws {
        let queries: [Float] = [0.9, 0.2, 0.1, 0.1, 0.1, 0.9, 0.2, 0.9, 0]
        #expect(try Self.classify(queries, k: 2) == [0, 2, 1])
        // With k = all rows the exp(cos / T) weights still favour the near class.
        #expect(try Self.classify(queries, k: 200) == [0, 2, 1])
        // Unlabelled reference rows do not vote: with class 0 hidden, the first query goes to the nearer of
        // the other two classes.
        let hidden: [Int32] = [-1, -1, 1, 1, 2, 2]
        #expect(try Self.classify(queries, labels: hidden, k: 6)?[0] == 1)
        #expect(try KNNVoting.accuracy(queries: queries, queryLabels: [0, 2, 2], reference: Self.train,
                                       referenceLabels: Self.trainLabels, dimension: 3, k: 2) == 2.0 / 3)
    }

    /// The linear probe's estimator against PyTorch: full-batch SGD with momentum and weight decay on W,
    /// 60 steps from zero on noisy three-class data, compared weight by weight (Tests/Fixtures/linear_reference.py).
    @Test(.needsTorch) func logisticRegressionMatchesTorchSGD() throws {
        let python = try #require(TestSupport.pythonWithTorch)
        var rng = SeededGenerator(seed: 9)
        let n = 90, d = 5, k = 3
        let labels = (0..<n).map { Int32($0 % k) }
        let features = (0..<(n * d)).map { i in rng.nextNormal() + (i % d == Int(labels[i / d]) ? 1.5 : 0) }
        let estimator = LogisticRegression(epochs: 60, learningRate: 0.5, momentum: 0.9, weightDecay: 1e-3)
        let model = estimator.fit(features, dimension: d, labels: labels, classes: k)
        let expected: [String: Any] = try TestSupport.withTemporaryDirectory { dir in
            let fields: [String: Any] = ["dimension": d, "classes": k, "features": features.map(Double.init), "labels": labels.map(Int.init),
                                         "epochs": 60, "lr": 0.5, "momentum": 0.9, "weight_decay": 1e-3]
            try JSONSerialization.data(withJSONObject: fields).write(to: URL(fileURLWithPath: dir + "/case.json"))
            let run = try TestSupport.execute(python, [TestSupport.repositoryRoot + "/Tests/Fixtures/linear_reference.py", dir + "/case.json"])
            #expect(run.status == 0, "\(run.stderr)")
            return try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        }
        let weights = try #require(expected["weights"] as? [Double]), bias = try #require(expected["bias"] as? [Double])
        let probs = try #require(expected["probs"] as? [Double])
        let scale = weights.map(abs).max() ?? 1
        let worst = zip(model.weights, weights).map { abs(Double($0) - $1) }.max() ?? 0
        #expect(worst < 1e-4 * scale, "weights differ by \(worst) (largest \(scale))")
        #expect(zip(model.bias, bias).allSatisfy { abs($0 - $1) < 1e-4 }, "bias \(model.bias) vs \(bias)")
        #expect(zip(model.probabilities(features), probs).allSatisfy { abs($0 - $1) < 1e-4 })
        #expect(Double(zip(model.predict(features), labels).filter { $0 == Int($1) }.count) / Double(n) > 0.8)
    }

    @Test func reportsAccuracyConfusionAndRefusesMismatches() throws {
        try TestSupport.withTemporaryDirectory { dir in
            try Features(values: Self.train, count: 6, dimension: 3, labels: Self.trainLabels, model: "test", normalized: false)
                .write(dir + "/train.h5", inputs: [])
            let queries: [Float] = [0.9, 0.2, 0.1, 0.1, 0.1, 0.9, 0.2, 0.9, 0, 1, 0, 0]
            try Features(values: queries, count: 4, dimension: 3, labels: [0, 2, 2, -1], model: "test", normalized: false)
                .write(dir + "/test.h5", inputs: [])
            let report = try MetricEvaluation(reference: dir + "/train.h5", queries: dir + "/test.h5", k: 2,
                                              json: dir + "/m.json", output: dir + "/m.h5").run()
            #expect(report.contains("66.67") || report.contains("0.6667"), "\(report)")
            let runs = try MetricsFile.read(dir + "/m.h5")
            #expect(runs.count == 1 && runs[0].kind == "metric")
            #expect(runs[0].scalar("evaluated") == 3 && abs(runs[0].scalar("accuracy")! - 2.0 / 3) < 1e-12)
            #expect(runs[0].scalar("k") == 2)
            #expect(runs[0].confusion == [1, 0, 0, 0, 0, 0, 0, 1, 1])
            #expect(runs[0].scalar("linear_accuracy") == nil, "no probe unless asked")
            // The linear probe beside the kNN monitor: the axes are linearly separable, the queries near them.
            _ = try MetricEvaluation(reference: dir + "/train.h5", queries: dir + "/test.h5", k: 2, output: dir + "/probe.h5",
                                     linear: LogisticRegression(epochs: 100)).run()
            let probe = try MetricsFile.read(dir + "/probe.h5")[0]
            #expect(probe.scalar("linear_accuracy") == 2.0 / 3 && probe.scalar("linear_epochs") == 100, "\(probe.scalars)")

            try Features(values: [1, 0, 0, 1], count: 2, dimension: 2, labels: [0, 1], model: "test", normalized: true)
                .write(dir + "/narrow.h5", inputs: [])
            do {
                _ = try MetricEvaluation(reference: dir + "/train.h5", queries: dir + "/narrow.h5").run()
                Issue.record("features of another dimension were accepted")
            } catch let error as MTError {
                #expect(error.exitCode == 2 && error.message.contains("narrow.h5") && error.message.contains("3 columns"))
            }
            try Features(values: Self.train, count: 6, dimension: 3, labels: [Int32](repeating: -1, count: 6), model: "test",
                         normalized: false).write(dir + "/unlabelled.h5", inputs: [])
            #expect(throws: MTError.self) {
                try MetricEvaluation(reference: dir + "/unlabelled.h5", queries: dir + "/test.h5").run()
            }
        }
    }
}
