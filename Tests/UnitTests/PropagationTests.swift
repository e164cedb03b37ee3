import Foundation
import TestSupport
import Testing
@testable import MTCore
@testable import MTStorage
@testable import MTAlgorithms
@testable import MTNetwork
@testable import MTCommand

/// kNN voting and label spreading on hand-checkable cases, and on real digits.
@Suite struct PropagationTests {
    /// Sample 0 = (1, 0) is unlabelled; labelled: 1 = (1, 0) class 0, 2 = (0, 1) class 1, 3 = (0.6, 0.8) class 1.
    /// Its similarities to them are 1, 0 and 0.6.
    static func votingCase() throws -> (RowMatrix, Split) {
        let rows = try RowMatrix([1, 0, 1, 0, 0, 1, 0.6, 0.8], count: 4, dimension: 2)
        let split = Split(labeled: [1, 2, 3], labeledLabels: [0, 1, 1], unlabeled: [0], sampleCount: 4, classCount: 2)
        return (rows, split)
    }

    @Test func votingProbabilitiesMatchHandComputation() throws {
        let (rows, split) = try Self.votingCase()
        // K = min(3, 200) = 3, T = 0.1: class 0 scores e^10, class 1 scores e^0 + e^6.
        let all = try KNNVoting.propagate(rows, split: split).labels
        let p0 = exp(10.0) / (exp(10.0) + 1 + exp(6.0))
        #expect(abs(Double(all.probs[0]) - p0) < 1e-6 && abs(Double(all.probs[1]) - (1 - p0)) < 1e-6)
        #expect(all.labels[0] == 0 && all.confidence[0] == all.probs[0])
        #expect(all.method == "knn" && all.parameters["k"] == .int(3))

        // K = 2: the two most similar (classes 0 and 1 at s = 1 and 0.6) vote.
        let two = try KNNVoting.propagate(rows, split: split, k: 2).labels
        #expect(abs(Double(two.probs[0]) - exp(10.0) / (exp(10.0) + exp(6.0))) < 1e-6)

        // T = 1 flattens the vote: e^1 against e^0 + e^0.6.
        let warm = try KNNVoting.propagate(rows, split: split, temperature: 1).labels
        #expect(abs(Double(warm.probs[0]) - exp(1.0) / (exp(1.0) + 1 + exp(0.6))) < 1e-6)
    }

    @Test func labelledSamplesKeepTheirLabel() throws {
        let (rows, split) = try Self.votingCase()
        let result = try KNNVoting.propagate(rows, split: split).labels
        // Sample 2 = (0, 1) is most similar to sample 3 (class 1) and to sample 1 not at all, yet keeps
        // its label with certainty; so do the others.
        #expect(Array(result.labels[1...]) == [0, 1, 1])
        #expect(Array(result.probs[2...]) == [1, 0, 0, 1, 0, 1])
        #expect(Array(result.confidence[1...]) == [1, 1, 1])
        #expect(result.labeled == [1, 2, 3] && result.labeledLabels == [0, 1, 1])
    }

    @Test func votingRejectsMismatchedInputs() throws {
        let (rows, split) = try Self.votingCase()
        var wrong = split
        wrong.sampleCount = 5
        #expect(throws: MTError.self) { try KNNVoting.propagate(rows, split: wrong).labels }
        #expect(throws: MTError.self) { try KNNVoting.propagate(rows, split: split, temperature: 0).labels }
        #expect(throws: MTError.self) { try KNNVoting.propagate(rows, split: split, k: 0).labels }
    }

    /// A path 0-1-2-3-4-5 with two labelled ends, as a 2-NN graph with unit similarities.
    static func pathGraph() -> KNNGraph {
        let neighbors: [Int32] = [1, 2, 0, 2, 1, 3, 2, 4, 3, 5, 4, 3]
        return KNNGraph(neighbors: neighbors, similarities: [Float](repeating: 1, count: 12), count: 6, k: 2,
                        databaseSize: 6, selfIncluded: false)
    }

    /// (1 - alpha)(I - alpha S)^-1 Y by Gaussian elimination, S from W = A + A^T (unit weights).
    static func closedForm(_ graph: KNNGraph, labeled: [Int], labels: [Int], classes: Int, alpha: Double) -> [[Double]] {
        let n = graph.count
        var w = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        for i in 0..<n {
            for e in 0..<graph.k {
                let j = Int(graph.neighbors[i * graph.k + e])
                w[i][j] += 1
                w[j][i] += 1
            }
        }
        let degree = w.map { $0.reduce(0, +) }
        var matrix = (0..<n).map { i in (0..<n).map { j in (i == j ? 1 : 0) - alpha * w[i][j] / (degree[i] * degree[j]).squareRoot() } }
        var rhs = [[Double]](repeating: [Double](repeating: 0, count: classes), count: n)
        for (sample, label) in zip(labeled, labels) { rhs[sample][label] = 1 - alpha }
        for column in 0..<n {
            let pivot = (column..<n).max { abs(matrix[$0][column]) < abs(matrix[$1][column]) }!
            matrix.swapAt(column, pivot)
            rhs.swapAt(column, pivot)
            for row in 0..<n where row != column {
                let factor = matrix[row][column] / matrix[column][column]
                for j in 0..<n { matrix[row][j] -= factor * matrix[column][j] }
                for c in 0..<classes { rhs[row][c] -= factor * rhs[column][c] }
            }
        }
        return (0..<n).map { i in rhs[i].map { $0 / matrix[i][i] } }
    }

    @Test(arguments: [0.5, 0.9])
    func spreadingConvergesToTheClosedForm(alpha: Double) throws {
        let graph = Self.pathGraph()
        let split = Split(labeled: [0, 5], labeledLabels: [0, 1], unlabeled: [1, 2, 3, 4], sampleCount: 6, classCount: 2)
        let result = try LabelSpreading.propagate(graph, split: split, alpha: alpha, iterations: 10_000, tolerance: 1e-7, gamma: 0)
        #expect(result.converged && result.iterations < 10_000)
        let expected = Self.closedForm(graph, labeled: [0, 5], labels: [0, 1], classes: 2, alpha: alpha)
        for sample in 1...4 {
            let total = expected[sample].reduce(0, +)
            for c in 0..<2 {
                #expect(abs(Double(result.labels.probs[sample * 2 + c]) - expected[sample][c] / total) < 1e-4)
            }
        }
        // By symmetry the near half goes to each end's class, with mirrored confidences.
        #expect(result.labels.labels == [0, 0, 0, 1, 1, 1])
        #expect(abs(result.labels.confidence[1] - result.labels.confidence[4]) < 1e-5)
        #expect(result.labels.confidence[1] > result.labels.confidence[2])
    }

    /// On the symmetric path the unlabelled four split two and two; a 3:1 prior moves the boundary one step.
    @Test func spreadingWithAPriorMovesTheBoundary() throws {
        let split = Split(labeled: [0, 5], labeledLabels: [0, 1], unlabeled: [1, 2, 3, 4], sampleCount: 6, classCount: 2)
        let result = try LabelSpreading.propagate(Self.pathGraph(), split: split, alpha: 0.9, iterations: 10_000, tolerance: 1e-7, gamma: 0,
                                                  prior: PriorBalancing(prior: .marginals([3, 1]), lambda: 25, slack: 0))
        #expect(result.labels.labels == [0, 0, 0, 0, 1, 1])
        #expect(result.labels.parameters["prior_marginals"] == .doubles([0.75, 0.25]))
        #expect(result.diagnostics.notes.contains { $0.hasPrefix("prior given (lambda 25.0, slack 0.0)") })
    }

    @Test func unreachableSamplesGetTheUniformDistribution() throws {
        // Two pairs {0, 1} and {2, 3}; only 0 is labelled.
        let graph = KNNGraph(neighbors: [1, 0, 3, 2], similarities: [0.9, 0.9, 0.8, 0.8], count: 4, k: 1,
                             databaseSize: 4, selfIncluded: false)
        let split = Split(labeled: [0], labeledLabels: [2], unlabeled: [1, 2, 3], sampleCount: 4, classCount: 3)
        let result = try LabelSpreading.propagate(graph, split: split)
        #expect(Array(result.labels.probs[3..<6]) == [0, 0, 1])
        #expect(Array(result.labels.probs[6..<9]).allSatisfy { abs($0 - 1 / 3) < 1e-6 })
        #expect(result.labels.labels[1] == 2)
    }

    @Test func spreadingRejectsQueryGraphsAndBadParameters() throws {
        let split = Split(labeled: [0], labeledLabels: [0], unlabeled: [1, 2, 3, 4, 5], sampleCount: 6, classCount: 2)
        var queryGraph = Self.pathGraph()
        queryGraph.databaseSize = 9
        #expect(throws: MTError.self) { try LabelSpreading.propagate(queryGraph, split: split) }
        #expect(throws: MTError.self) { try LabelSpreading.propagate(Self.pathGraph(), split: split, alpha: 1) }
        #expect(throws: MTError.self) { try LabelSpreading.propagate(Self.pathGraph(), split: split, iterations: 0) }
    }

    /// 2,000 real digits as normalised pixels with 10 labels per class. Measured: voting 72.8%, spreading
    /// 82.2%; the floors are far above chance (10%) and what a vote ignoring the similarities reaches.
    @Test(.needsMNIST) func pixelFeaturesPropagateOnMNIST() throws {
        let dataset = try TestSupport.mnistTrain(limit: 2000)
        let features = PixelFeatures.extract(dataset, normalize: true)
        var labeled: [Int] = []
        for c in 0..<10 { labeled += (0..<features.count).filter { features.labels[$0] == c }.prefix(10) }
        labeled.sort()
        let unlabeled = (0..<features.count).filter { !labeled.contains($0) }
        let split = Split(labeled: labeled, labeledLabels: labeled.map { features.labels[$0] }, unlabeled: unlabeled,
                          sampleCount: features.count, classCount: 10)
        let rows = try RowMatrix(features.values, count: features.count, dimension: features.dimension)
        func accuracy(_ pseudo: PseudoLabels) -> Double {
            Double(unlabeled.filter { pseudo.labels[$0] == features.labels[$0] }.count) / Double(unlabeled.count)
        }
        let voting = accuracy(try KNNVoting.propagate(rows, split: split).labels)
        let graph = try ExactKNN.search(rows, k: 10)
        let spreading = accuracy(try LabelSpreading.propagate(graph, split: split).labels)
        print("MNIST 2000, 100 labels: voting \(voting), spreading \(spreading)")
        #expect(voting > 0.65)
        #expect(spreading > 0.75)
    }
}
