import Foundation
import Testing
import TestSupport
@testable import MTCore
@testable import MTStorage
@testable import MTAlgorithms
@testable import MTNetwork
@testable import MTCommand

/// Eight samples, three classes; sample 0 is labelled (class 2). Unlabelled confidences rank
/// 1 (0.9) = 3 (0.9) > 6 (0.8) > 5 (0.7) > 2 (0.6) > 4 (0.5) > 7 (0.4); no sample is predicted class 2.
private func handMade(weights: [Float]? = nil) -> PseudoLabels {
    let rows: [[Float]] = [
        [0, 0, 1],
        [0.9, 0.05, 0.05],
        [0.2, 0.6, 0.2],
        [0.9, 0.1, 0],
        [0.45, 0.5, 0.05],
        [0.7, 0.3, 0],
        [0.1, 0.8, 0.1],
        [0.4, 0.3, 0.3],
    ]
    return PseudoLabels(probs: rows.flatMap { $0 }, labels: [2, 0, 1, 0, 1, 0, 1, 0],
                        confidence: rows.map { $0.max()! }, weights: weights, count: 8, classCount: 3,
                        labeled: [0], labeledLabels: [2], method: "test")
}

@Suite struct PseudoLabelSelectionTests {
    func select(_ strategy: SelectionStrategy, _ weighting: SelectionWeighting = .confidence,
                pseudo: PseudoLabels = handMade()) throws -> Selection {
        try PseudoLabelSelection(strategy: strategy, weighting: weighting).select(pseudo, source: "p.h5").selection
    }

    @Test func ratioZeroKeepsOnlyTheLabelledSet() throws {
        let selection = try select(.ratio(0))
        #expect(selection.index == [0])
        #expect(selection.labels == [2])
        #expect(selection.weights == [1])
        #expect(selection.labeledCount == 1)
    }

    @Test func ratioOneKeepsEverythingByConfidenceWithTiesToTheLowerIndex() throws {
        let selection = try select(.ratio(1))
        #expect(selection.index == [0, 1, 3, 6, 5, 2, 4, 7])
        #expect(selection.labels == [2, 0, 0, 1, 0, 1, 1, 0])
        #expect(selection.weights == [1, 0.9, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
    }

    /// Yalniz et al.'s top-K over the top P classes on a hand-made matrix: ties within a row (the lower
    /// class first) and between rows (the lower sample first), a sample in two classes' lists, a class
    /// with fewer than K candidates; P = 1 is the plain per-class top.
    @Test func topKOverTopPClassesListsASampleOncePerClass() throws {
        let rows: [[Float]] = [[0, 0, 1], [0.6, 0.3, 0.1], [0.5, 0.5, 0], [0.2, 0.7, 0.1], [0.4, 0.4, 0.2], [0.1, 0.3, 0.6]]
        let pseudo = PseudoLabels(probs: rows.flatMap { $0 }, labels: [2, 0, 0, 1, 0, 2], confidence: rows.map { $0.max()! }, count: 6,
                                  classCount: 3, labeled: [0], labeledLabels: [2], method: "test")
        // Lists (top-2 classes): class 0 <- 1 (.6), 2 (.5), 4 (.4), 3 (.2); class 1 <- 3 (.7), 2 (.5), 4 (.4), 1 (.3), 5 (.3);
        // class 2 <- 5 (.6) only (sample 4's top two are classes 0 and 1). K = 2 per class, merged by score.
        let selection = try select(.perClassTop(2, topClasses: 2), pseudo: pseudo)
        #expect(selection.index == [0, 3, 1, 5, 2, 2])
        #expect(selection.labels == [2, 1, 0, 2, 0, 1])
        #expect(selection.confidence == [1, 0.7, 0.6, 0.6, 0.5, 0.5])
        #expect(selection.weights == [1, 0.7, 0.6, 0.6, 0.5, 0.5], "an entry weighs its class's probability")
        #expect(selection.parameters["top_classes"] == .int(2))
        // P = 1: each sample only in its predicted class, as --per-class-top alone.
        let single = try select(.perClassTop(2, topClasses: 1), pseudo: pseudo)
        #expect(single.index == [0, 3, 1, 5, 2] && single.labels == [2, 1, 0, 2, 0])
        // Without the labelled samples (a student's set).
        let student = try PseudoLabelSelection(strategy: .perClassTop(2, topClasses: 2), excludesLabeled: true)
            .select(pseudo, source: "p.h5").selection
        #expect(student.index == [3, 1, 5, 2, 2] && student.labeledCount == 0)
        // On disk the repeated sample survives the round trip; a repeated (sample, label) pair is refused.
        try TestSupport.withTemporaryDirectory { dir in
            try selection.write(dir + "/s.h5", inputs: [])
            #expect(try Selection.read(dir + "/s.h5") == selection)
            var twice = selection
            twice.labels[5] = 0
            try twice.write(dir + "/t.h5", inputs: [])
            #expect(throws: MTError.self) { try Selection.read(dir + "/t.h5") }
        }
    }

    /// ReLaB's cleaning on a synthetic noisy-label set: three Gaussian clusters, a fifth of the propagated
    /// labels flipped to another class. The logistic regression fitted to all of them still follows the
    /// clusters, so the small-loss pool per class is (almost) all clean, while the labels it was given are 80 %.
    @Test func cleaningKeepsTheCleanSamplesOfANoisySet() throws {
        let n = 600, d = 8, k = 3
        var rng = SeededGenerator(seed: 5)
        var features: [Float] = [], truth: [Int32] = [], labels: [Int32] = []
        for i in 0..<n {
            let c = i % k
            for j in 0..<d { features.append(rng.nextNormal() * 0.6 + (j == c ? 2 : 0)) }
            truth.append(Int32(c))
            labels.append(i % 5 == 0 ? Int32((c + 1 + i % 2) % k) : Int32(c))
        }
        let probs = labels.flatMap { label in (0..<k).map { $0 == Int(label) ? Float(0.8) : 0.1 } }
        let pseudo = PseudoLabels(probs: probs, labels: labels, confidence: [Float](repeating: 0.8, count: n), count: n, classCount: k,
                                  labeled: [0, 1, 2], labeledLabels: [0, 1, 2], method: "test")
        let (pool, diagnostics) = try PseudoLabelCleaning(perClass: 60).clean(pseudo, features: features, dimension: d, source: "p.h5")
        let kept = Array(zip(pool.index, pool.labels).dropFirst(pool.labeledCount))
        let precision = Double(kept.filter { truth[$0.0] == $0.1 }.count) / Double(kept.count)
        #expect(kept.count == 3 * 60 && pool.labeledCount == 3 && pool.strategy == "small-loss")
        #expect(precision >= 0.99, "pool precision \(precision) (the labels given: 0.80)")
        let perClass = Dictionary(grouping: kept.map(\.1), by: { $0 }).mapValues(\.count)
        #expect(perClass == [0: 60, 1: 60, 2: 60], "class-balanced")
        #expect(pool.confidence.dropFirst(3).allSatisfy { $0 > 0 && $0 <= 1 } && !diagnostics.notes.isEmpty)
        // The noise is where the loss is: the flipped samples score lower than the clean ones on average.
        let scores = PseudoLabelCleaning(perClass: 60).scores(features: features, dimension: d, labels: labels, classes: k).scores
        let flipped = (0..<n).filter { labels[$0] != truth[$0] }, clean = (0..<n).filter { labels[$0] == truth[$0] }
        let flippedMean = flipped.reduce(Float(0)) { $0 + scores[$1] } / Float(flipped.count)
        let cleanMean = clean.reduce(Float(0)) { $0 + scores[$1] } / Float(clean.count)
        #expect(flippedMean < 0.5 * cleanMean, "mean probability of the given label: flipped \(flippedMean), clean \(cleanMean)")
    }

    @Test func ratioRoundsDownTheFractionOfUnlabelledSamples() throws {
        #expect(try select(.ratio(0.5)).index == [0, 1, 3, 6])  // floor(3.5)
        #expect(try select(.ratio(3.0 / 7)).index == [0, 1, 3, 6])  // exactly 3, despite rounding error
    }

    @Test func perClassTopTakesKPerPredictedClassAndSkipsClassesWithoutCandidates() throws {
        let selection = try select(.perClassTop(2))
        #expect(selection.index == [0, 1, 3, 6, 2])
        #expect(selection.labels == [2, 0, 0, 1, 1])
        #expect(try select(.perClassTop(0)).index == [0])
        #expect(try select(.perClassTop(100)).count == 8)
    }

    @Test func thresholdKeepsConfidenceAtLeastT() throws {
        #expect(try select(.threshold(0.7)).index == [0, 1, 3, 6, 5])
        #expect(try select(.threshold(0.95)).index == [0])
    }

    @Test func reliableRanksByTopTwoMarginPerClass() throws {
        // Margins: 1 .85, 3 .8, 5 .4, 7 .1 (class 0); 6 .7, 2 .4, 4 .05 (class 1).
        let selection = try select(.reliable(1))
        #expect(selection.index == [0, 1, 6])
        #expect(selection.confidence.map { ($0 * 100).rounded() } == [100, 85, 70])
        #expect(selection.weights == [1, 0.9, 0.8])
        #expect(try select(.reliable(2)).index == [0, 1, 3, 6, 2])
    }

    @Test func weightings() throws {
        #expect(try select(.ratio(0.5), .uniform).weights == [1, 1, 1, 1])
        let pseudo = handMade(weights: [9, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7])
        #expect(try select(.ratio(0.5), .nc, pseudo: pseudo).weights == [1, 0.1, 0.3, 0.6])
    }

    @Test func ncWeightsWithoutMethodWeightsIsBadInput() {
        #expect(throws: MTError.badInput("p.h5", "/weights", "expected float32 [N] for --weights nc, found none (the method wrote no weights)")) {
            try select(.ratio(1), .nc)
        }
    }

    @Test func recordsStrategyAndParameters() throws {
        let selection = try PseudoLabelSelection(strategy: .threshold(0.5), weighting: .uniform,
                                                 balance: SinkhornKnopp(), prior: .labeled).select(handMade(), source: "p.h5").selection
        #expect(selection.strategy == "threshold")
        #expect(selection.parameters["threshold"] == .double(0.5))
        #expect(selection.parameters["weighting"] == .string("uniform"))
        #expect(selection.parameters["balance"] == .string("sinkhorn"))
        #expect(selection.parameters["prior"] == .string("labeled"))
    }

    @Test func balancingMovesLabelsTowardsTheUniformPrior() throws {
        // Every sample says class 0 (0.5), but the uniform prior asks for a third in each class; with
        // lambda 10 the balanced argmax splits them 3/3/3 by how they lean between classes 1 and 2
        // (checked against numpy with the textbook iteration).
        let rows = (0..<9).map { i -> [Float] in [0.5, 0.3 - 0.02 * Float(i), 0.2 + 0.02 * Float(i)] }
        let pseudo = PseudoLabels(probs: rows.flatMap { $0 }, labels: [Int32](repeating: 0, count: 9),
                                  confidence: [Float](repeating: 0.5, count: 9), count: 9, classCount: 3,
                                  labeled: [], labeledLabels: [], method: "test")
        let balanced = try PseudoLabelSelection(strategy: .ratio(1), balance: SinkhornKnopp(lambda: 10))
            .select(pseudo, source: "p.h5").selection
        let bySample = Dictionary(uniqueKeysWithValues: zip(balanced.index, balanced.labels))
        #expect((0..<9).map { bySample[$0]! } == [1, 1, 1, 0, 0, 0, 2, 2, 2])
        #expect(balanced.parameters["sinkhorn_iterations"] != nil)
    }
}

@Suite struct SelectionFileTests {
    @Test func roundTrip() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mt-selection-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let selection = try PseudoLabelSelection(strategy: .perClassTop(2)).select(handMade(), source: "p.h5").selection
        try selection.write(directory + "/s.h5", inputs: ["p.h5"])
        #expect(try Selection.read(directory + "/s.h5") == selection)
    }
}

/// The class-size check every propagation prints: a class predicted far more (or less) often than the
/// labels' share is named; shares within 0.7 and 1.3 of it are not.
@Suite struct ClassSizeDiagnosticsTests {
    func pseudo(_ predicted: [Int32]) -> PseudoLabels {
        let labels: [Int32] = [0, 1, 2] + predicted
        return PseudoLabels(probs: labels.flatMap { l in (0..<3).map { $0 == Int(l) ? Float(1) : 0 } }, labels: labels,
                            confidence: [Float](repeating: 1, count: labels.count), count: labels.count, classCount: 3,
                            labeled: [0, 1, 2], labeledLabels: [0, 1, 2], method: "test")
    }

    @Test func warnsAboutAClassThatTakesAnothersSamples() {
        let skewed = pseudo([Int32](repeating: 0, count: 50) + [Int32](repeating: 1, count: 35) + [Int32](repeating: 2, count: 15))
        let diagnostics = skewed.classSizeDiagnostics()
        #expect(diagnostics.notes.first?.contains("0: 50.0% (33.3%)") == true, "\(diagnostics.notes)")
        #expect(diagnostics.warnings.count == 2, "\(diagnostics.warnings)")
        #expect(diagnostics.warnings.contains { $0.hasPrefix("class 0 holds 50.0%") && $0.contains("near another class") })
        #expect(diagnostics.warnings.contains { $0.hasPrefix("class 2 holds 15.0%") && $0.contains("atypical") })
        let even = pseudo([Int32](repeating: 0, count: 36) + [Int32](repeating: 1, count: 33) + [Int32](repeating: 2, count: 31))
        #expect(even.classSizeDiagnostics().warnings.isEmpty)
    }
}
