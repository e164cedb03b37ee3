import Foundation
import MTAlgorithms
import MTCore
import Testing

/// Which samples `ActiveQuery` proposes, on hand-made cases whose answers are worked out in the comments.
@Suite struct ActiveQueryTests {
    /// Sample 0 is labelled (class 0); samples 1-6 are not. Margins (top-1 minus top-2):
    /// 1: 0.8 (class 0)  2: 0.1 (class 0)  3: 0.3 (class 1)  4: 0.05 (class 0)  5: 0.6 (class 1)  6: 0.2 (class 2)
    func pseudo() -> PseudoLabels {
        let rows: [[Float]] = [
            [1, 0, 0], [0.9, 0.1, 0], [0.5, 0.4, 0.1], [0.3, 0.6, 0.1], [0.45, 0.4, 0.15], [0.2, 0.8, 0], [0.3, 0.1, 0.5],
        ]
        let labels: [Int32] = [0, 0, 0, 1, 0, 1, 2]
        return PseudoLabels(probs: rows.flatMap { $0 }, labels: labels, confidence: rows.map { $0.max()! }, count: 7, classCount: 3,
                            labeled: [0], labeledLabels: [0], method: "test")
    }

    @Test func marginTakesTurnsOverPredictedClasses() throws {
        var query = ActiveQuery(budget: 5)
        // Turn 1: each class's least certain, classes ordered by that margin: 4 (0.05, class 0), 6 (0.2, class 2),
        // 3 (0.3, class 1). Turn 2: class 0's next is 2 (0.1), class 1's next 5 (0.6): 2, then 5.
        #expect(try query.select(pseudo()).queries.map(\.index) == [4, 6, 3, 2, 5])
        query.balanced = false
        // Globally by margin: 4 (0.05), 2 (0.1), 6 (0.2), 3 (0.3), 5 (0.6).
        let queries = try query.select(pseudo()).queries
        #expect(queries.map(\.index) == [4, 2, 6, 3, 5])
        #expect(abs(queries[0].margin - 0.05) < 1e-6 && queries[0].predicted == 0 && queries[0].reason == .margin)
    }

    @Test func neverProposesALabelledSampleAndWarnsWhenTooFewAreLeft() throws {
        let (queries, diagnostics) = try ActiveQuery(budget: 10).select(pseudo())
        #expect(Set(queries.map(\.index)) == Set(1...6))
        #expect(diagnostics.warnings == ["only 6 unlabelled samples: asking for all of them, not 10"])
        var random = ActiveQuery(budget: 3, strategy: .random)
        random.seed = 4
        let first = try random.select(pseudo()).queries.map(\.index)
        #expect(first == (try random.select(pseudo()).queries.map(\.index)) && !first.contains(0) && Set(first).count == 3)
    }

    /// Unit vectors at angles 0 (sample 0, labelled), 10, 90, 165 and 180 degrees (samples 1-4).
    func circle() -> (PseudoLabels, [Float]) {
        let angles: [Double] = [0, 10, 90, 165, 180]
        let features = angles.flatMap { [Float(cos($0 * .pi / 180)), Float(sin($0 * .pi / 180))] }
        let probs: [Float] = [[1, 0], [0.9, 0.1], [0.55, 0.45], [0.2, 0.8], [0.1, 0.9]].flatMap { $0 }
        let pseudo = PseudoLabels(probs: probs, labels: [0, 0, 0, 1, 1], confidence: [1, 0.9, 0.55, 0.8, 0.9], count: 5, classCount: 2,
                                  labeled: [0], labeledLabels: [0], method: "test")
        return (pseudo, features)
    }

    @Test func coverageGoesFarthestFirst() throws {
        let (pseudo, features) = circle()
        // From the label at 0: 180 is least similar (cos = -1); then 90 (best similarity 0, where 10 and 165
        // are within 15 degrees of a centre); then 165 (15 degrees from 180) before 10 (10 degrees from 0).
        let queries = try ActiveQuery(budget: 4, strategy: .coverage).select(pseudo, features: features, dimension: 2).queries
        #expect(queries.map(\.index) == [4, 2, 3, 1] && queries.allSatisfy { $0.reason == .coverage })
        #expect(throws: MTError.self) { try ActiveQuery(budget: 1, strategy: .coverage).select(pseudo) }
    }

    @Test func mixSplitsTheBudget() throws {
        let (pseudo, features) = circle()
        var query = ActiveQuery(budget: 2, strategy: .mix)
        query.coverageShare = 0.5
        // One by margin: sample 2 (margin 0.1). Then coverage from {0, 2}: 180 (sample 4).
        let queries = try query.select(pseudo, features: features, dimension: 2).queries
        #expect(queries.map(\.index) == [2, 4] && queries.map(\.reason) == [.margin, .coverage])
    }
}
