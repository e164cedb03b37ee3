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
        let prior = ClassPrior.uniform.marginals(classes: classes, labeledLabels: [])!
        let one = Parallel.$threadCount.withValue(1) { SinkhornKnopp(lambda: 5).balance(probs, rows: rows, classes: classes, prior: prior) }
        let two = Parallel.$threadCount.withValue(2) { SinkhornKnopp(lambda: 5).balance(probs, rows: rows, classes: classes, prior: prior) }
        #expect(one.probs == two.probs)
        #expect(one.converged)
    }

    @Test func priorFromLabelledFrequencies() {
        #expect(ClassPrior.labeled.marginals(classes: 3, labeledLabels: [0, 0, 1, 0]) == [0.75, 0.25, 0])
        #expect(ClassPrior.uniform.marginals(classes: 4, labeledLabels: [0, 1]) == [0.25, 0.25, 0.25, 0.25])
        #expect(ClassPrior.marginals([2, 1, 1]).marginals(classes: 3, labeledLabels: []) == [0.5, 0.25, 0.25])
        // A file's weights must fit the classes and carry mass.
        #expect(ClassPrior.marginals([1, 1]).marginals(classes: 3, labeledLabels: []) == nil)
        #expect(ClassPrior.marginals([0, 0, 0]).marginals(classes: 3, labeledLabels: []) == nil)
    }

    /// Eight unlabelled rows leaning to class 0 (six of eight argmaxes) and two labelled rows.
    func skewedPseudoLabels() -> PseudoLabels {
        let rows: [[Float]] = [[0.6, 0.3, 0.1], [0.55, 0.4, 0.05], [0.5, 0.2, 0.3], [0.45, 0.1, 0.45],
                               [0.7, 0.2, 0.1], [0.4, 0.35, 0.25], [0.2, 0.7, 0.1], [0.1, 0.2, 0.7],
                               [1, 0, 0], [0, 1, 0]]
        let probs = rows.flatMap { $0 }
        return PseudoLabels(probs: probs, labels: rows.map { Int32(Argmax.of($0)) }, confidence: rows.map { $0.max()! },
                            count: 10, classCount: 3, labeled: [8, 9], labeledLabels: [0, 1], method: "knn")
    }

    /// The prior's labels are the argmax of the balanced Q of the textbook iteration (P ⊙ b^(1/lambda) has
    /// Q's argmax), and its distributions are P ⊙ f renormalised; labelled rows are untouched.
    @Test(arguments: [1.0, 5.0, 25.0])
    func priorBalancingTakesTheArgmaxOfTheBalancedAssignment(lambda: Double) throws {
        let pseudo = skewedPseudoLabels()
        var balancing = PriorBalancing(prior: .uniform, lambda: lambda, slack: 0)
        balancing.sinkhorn.maxIterations = 100_000
        balancing.sinkhorn.tolerance = 1e-12
        let (balanced, diagnostics) = try balancing.apply(to: pseudo)
        #expect(diagnostics.warnings.isEmpty)
        let unlabeled = (0..<8).map { row in (0..<3).map { Double(pseudo.probs[row * 3 + $0]) } }
        let q = reference(unlabeled, prior: [1.0 / 3, 1.0 / 3, 1.0 / 3], lambda: lambda)
        guard case .doubles(let factors)? = balanced.parameters["prior_factors"] else { Issue.record("no prior_factors"); return }
        #expect(factors.max() == 1 && factors.count == 3)
        for row in 0..<8 {
            #expect(Int(balanced.labels[row]) == Argmax.of(q[row]), "row \(row)")
            let scaled = (0..<3).map { Double(pseudo.probs[row * 3 + $0]) * factors[$0] }
            let total = scaled.reduce(0, +)
            for c in 0..<3 { #expect(abs(Double(balanced.probs[row * 3 + c]) - scaled[c] / total) < 1e-6) }
            #expect(balanced.confidence[row] == balanced.probs[row * 3 + Int(balanced.labels[row])])
        }
        #expect(Array(balanced.probs[24...]) == Array(pseudo.probs[24...]) && balanced.labels[8...] == pseudo.labels[8...])
        #expect(balanced.parameters["prior"] == .string("uniform") && balanced.parameters["prior_lambda"] == .double(lambda))
        // Without the prior six of eight rows are class 0; a hard balance (lambda 25) brings it near 8/3.
        if lambda == 25 { #expect((0..<8).filter { balanced.labels[$0] == 0 }.count <= 4) }
    }

    /// With slack s the targets are the predicted shares clamped to the prior's band (1 -+ s), renormalised:
    /// here 6/8, 1/8, 1/8 against thirds with s = 0.2 become (0.4, 0.267, 0.267) / 0.933.
    @Test func priorSlackClampsThePredictedSharesToTheBand() throws {
        let pseudo = skewedPseudoLabels()
        var balancing = PriorBalancing(prior: .uniform, lambda: 5, slack: 0.2)
        balancing.sinkhorn.tolerance = 1e-10
        balancing.sinkhorn.maxIterations = 100_000
        let (_, attributes, _) = try balancing.classFactors(pseudo)
        guard case .doubles(let targets)? = attributes["prior_targets"] else { Issue.record("no prior_targets"); return }
        let band = [0.4, 0.8 / 3, 0.8 / 3]
        let total = band.reduce(0, +)
        for c in 0..<3 { #expect(abs(targets[c] - band[c] / total) < 1e-12) }
        #expect(attributes["prior_marginals"] == .doubles([1.0 / 3, 1.0 / 3, 1.0 / 3]) && attributes["prior_slack"] == .double(0.2))
        // A draw already inside the band is left as it is: factors 1.
        let inside = try PriorBalancing(prior: .marginals([6, 1, 1]), lambda: 5, slack: 0.1).classFactors(pseudo).factors
        #expect(inside.allSatisfy { abs($0 - 1) < 1e-3 }, "\(inside)")
    }

    @Test func priorOfTheWrongLengthNamesItsFile() {
        let balancing = PriorBalancing(prior: .marginals([1, 1]), origin: "prior.txt")
        #expect { try balancing.apply(to: skewedPseudoLabels()) } throws: { error in
            "\(error)".contains("prior.txt") && "\(error)".contains("expected 3 nonnegative class weights")
        }
    }

    /// kNN voting with a prior on two clusters, one labelled example each, the first example inside the
    /// second cluster: without the prior it takes half of that cluster, with the uniform one the split is
    /// close to the truth.
    @Test func knnVotingWithAPriorUndoesAnAtypicalExample() throws {
        var generator = SeededGenerator(seed: 3)
        var values: [Float] = []
        var truth: [Int32] = []
        for i in 0..<400 {
            let cluster = i % 2
            let angle = (cluster == 0 ? 0 : 1.2) + 0.35 * (Double(generator.nextUniform()) - 0.5)
            values += [Float(cos(angle)), Float(sin(angle))]
            truth.append(Int32(cluster))
        }
        // The labelled example of class 0 sits inside cluster 1 (angles 1.03-1.38), that of class 1 at its
        // far edge: the vote's boundary (about 1.23) cuts cluster 1 in two.
        values[0] = Float(cos(1.1)); values[1] = Float(sin(1.1))
        values[2] = Float(cos(1.35)); values[3] = Float(sin(1.35))
        let rows = try RowMatrix(values, count: 400, dimension: 2)
        let split = Split(labeled: [0, 1], labeledLabels: [0, 1], unlabeled: Array(2..<400), sampleCount: 400, classCount: 2)
        let plain = try KNNVoting.propagate(rows, split: split, temperature: 0.05).labels
        let balancedRun = try KNNVoting.propagate(rows, split: split, temperature: 0.05, prior: PriorBalancing(prior: .uniform, slack: 0))
        let balanced = balancedRun.labels
        func accuracy(_ p: PseudoLabels) -> Double { Double((2..<400).filter { p.labels[$0] == truth[$0] }.count) / 398 }
        #expect(accuracy(plain) < 0.8)
        #expect(accuracy(balanced) > 0.95)
        let share = Double((2..<400).filter { balanced.labels[$0] == 0 }.count) / 398
        #expect(abs(share - 0.5) < 0.05)
        #expect(balanced.classSizeDiagnostics().warnings.isEmpty)
        #expect(plain.classSizeDiagnostics().warnings.contains { $0.contains("its only labelled example (sample 0)") })
        // Balanced, the example's own surroundings went to the other class: the per-example check names it.
        #expect(balancedRun.diagnostics.warnings.contains { $0.hasPrefix("sample 0 (labelled 0) may be atypical: only ") })
        #expect(!balancedRun.diagnostics.warnings.contains { $0.hasPrefix("sample 1 ") })
    }
}
