import Foundation
import Testing
@testable import MTCore
@testable import MTStorage
@testable import MTAlgorithms
@testable import MTNetwork
@testable import MTCommand

/// The textbook iteration on the full matrix, independent of the implementation's scaling vectors:
/// Q = P^lambda, then alternately rescale columns to N*prior and rows to 1, many times.
private func reference(_ probs: [[Double]], prior: [Double], lambda: Double) -> [[Double]] {
    let n = Double(probs.count)
    var q = probs.map { $0.map { pow($0, lambda) } }
    for _ in 0..<20000 {
        for c in prior.indices {
            let column = q.reduce(0) { $0 + $1[c] }
            for i in q.indices { q[i][c] *= n * prior[c] / column }
        }
        for i in q.indices {
            let row = q[i].reduce(0, +)
            q[i] = q[i].map { $0 / row }
        }
    }
    return q
}

@Suite struct SinkhornKnoppTests {
    let probs: [[Double]] = [
        [0.7, 0.2, 0.1],
        [0.6, 0.3, 0.1],
        [0.5, 0.25, 0.25],
        [0.2, 0.7, 0.1],
        [0.8, 0.1, 0.1],
    ]

    func marginals(_ result: SinkhornKnopp.Result, rows: Int, classes: Int) -> [Double] {
        (0..<classes).map { c in (0..<rows).reduce(0) { $0 + result.probs[$1 * classes + c] } / Double(rows) }
    }

    @Test(arguments: [(1.0, [1.0 / 3, 1.0 / 3, 1.0 / 3]), (1.0, [0.5, 0.3, 0.2]), (3.0, [0.4, 0.4, 0.2])])
    func matchesTheFloat64ReferenceAndThePrior(lambda: Double, prior: [Double]) {
        let sinkhorn = SinkhornKnopp(lambda: lambda, maxIterations: 10000, tolerance: 1e-12)
        let result = sinkhorn.balance(probs.flatMap { $0.map(Float.init) }, rows: 5, classes: 3, prior: prior)
        #expect(result.converged)
        #expect(result.marginalError <= 1e-12)
        let expected = reference(probs.map { $0.map { Double(Float($0)) } }, prior: prior, lambda: lambda)
        for i in 0..<5 {
            for c in 0..<3 { #expect(abs(result.probs[i * 3 + c] - expected[i][c]) < 1e-9) }
            #expect(abs((0..<3).reduce(0) { $0 + result.probs[i * 3 + $1] } - 1) < 1e-12)
        }
        for (got, want) in zip(marginals(result, rows: 5, classes: 3), prior) { #expect(abs(got - want) < 1e-12) }
    }

    @Test func stopsAtTheToleranceAndReportsIt() {
        let result = SinkhornKnopp(maxIterations: 1000, tolerance: 1e-3)
            .balance(probs.flatMap { $0.map(Float.init) }, rows: 5, classes: 3, prior: [1.0 / 3, 1.0 / 3, 1.0 / 3])
        #expect(result.converged)
        let error = marginals(result, rows: 5, classes: 3).reduce(0) { $0 + abs($1 - 1.0 / 3) }
        #expect(error <= 1e-3)
        #expect(abs(error - result.marginalError) < 1e-12)
    }

    @Test func unreachablePriorDoesNotConvergeButKeepsRowsNormalised() {
        // No sample puts mass on class 2, yet the prior asks for a third of it.
        let result = SinkhornKnopp(maxIterations: 50).balance([0.5, 0.5, 0, 0.9, 0.1, 0], rows: 2, classes: 3,
                                                              prior: [1.0 / 3, 1.0 / 3, 1.0 / 3])
        #expect(!result.converged)
        #expect(result.iterations == 50)
        #expect(result.probs.allSatisfy { $0.isFinite })
        #expect(abs(result.probs[0] + result.probs[1] - 1) < 1e-12)
    }

    @Test func resultDoesNotDependOnTheThreadCount() {
        var generator = SeededGenerator(seed: 7)
        let rows = 5000, classes = 10
        var probs = [Float](repeating: 0, count: rows * classes)
        for i in 0..<rows {
            var total: Float = 0
            for c in 0..<classes {
                probs[i * classes + c] = Float(generator.nextUniform()) + (c == i % 3 ? 2 : 0)
                total += probs[i * classes + c]
            }
            for c in 0..<classes { probs[i * classes + c] /= total }
        }
        let prior = SinkhornKnopp.prior(classes: classes, labeledLabels: nil)
        let one = Parallel.$threadCount.withValue(1) { SinkhornKnopp(lambda: 5).balance(probs, rows: rows, classes: classes, prior: prior) }
        let two = Parallel.$threadCount.withValue(2) { SinkhornKnopp(lambda: 5).balance(probs, rows: rows, classes: classes, prior: prior) }
        #expect(one.probs == two.probs)
        #expect(one.converged)
    }

    @Test func priorFromLabelledFrequencies() {
        #expect(SinkhornKnopp.prior(classes: 3, labeledLabels: [0, 0, 1, 0]) == [0.75, 0.25, 0])
        #expect(SinkhornKnopp.prior(classes: 4, labeledLabels: nil) == [0.25, 0.25, 0.25, 0.25])
    }
}
