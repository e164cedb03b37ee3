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
