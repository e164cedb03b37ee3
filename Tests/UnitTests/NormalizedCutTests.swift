import Foundation
import TestSupport
import Testing
@testable import MTCore
@testable import MTStorage
@testable import MTAlgorithms
@testable import MTNetwork
@testable import MTCommand

@Suite struct NormalizedCutTests {
    /// Five samples, three stored pairs (the first skipped), two classes; sample 0 is labelled 0 and
    /// sample 3 is labelled 1.
    let eigen = GraphEigenpairs(eigenvalues: [0, 0.2, 0.5],
                                eigenvectors: [0.1, 0.5, -0.2,
                                               0.2, 0.3, 0.4,
                                               0.3, -0.4, 0.1,
                                               0.4, -0.2, 0.6,
                                               0.5, 0.1, -0.3],
                                degrees: [1, 2, 3, 4, 5], residuals: [0, 0, 0], count: 5)
    let split = Split(labeled: [0, 3], labeledLabels: [0, 1], unlabeled: [1, 2, 4], sampleCount: 5, classCount: 2)

    /// The cut's per-class bias log(f_c) / T on the logits gives the labels of the prior applied to its
    /// softmax probabilities (P ⊙ f), by another route: the two must agree.
    @Test func priorBiasAgreesWithBalancingTheProbabilities() throws {
        var options = NormalizedCut.PropagateOptions()
        options.temperature = 2
        let plain = try NormalizedCut.propagate(eigen, split: split, splitPath: "s.h5", options: options).labels
        let prior = PriorBalancing(prior: .marginals([0.8, 0.2]), lambda: 1, slack: 0)
        options.prior = prior
        let (biased, diagnostics) = try NormalizedCut.propagate(eigen, split: split, splitPath: "s.h5", options: options)
        let expected = try prior.apply(to: plain).labels
        #expect(diagnostics.notes.contains { $0.hasPrefix("prior given (lambda 1.0, slack 0.0)") })
        #expect(biased.labels == expected.labels)
        for i in 0..<10 { #expect(abs(biased.probs[i] - expected.probs[i]) < 1e-5) }
        #expect(biased.parameters["prior_marginals"] == .doubles([0.8, 0.2]))
        #expect(biased.weights!.allSatisfy { $0 >= 0 && $0 <= 1 })
    }

    @Test func biasedCutMatchesTheFormulaByHand() throws {
        // The normalised prior by hand: class 0 has ratio d0/d3 = 1/4, so sample 0 gets sqrt(1 / (1/4)) = 2
        // and sample 3 gets -sqrt(4 * 1/4) = -1, a column of norm sqrt(5); class 1 is the mirror image.
        let r5 = 5.0.squareRoot()
        let prior: [[Double]] = [[2 / r5, -2 / r5], [0, 0], [0, 0], [-1 / r5, 1 / r5], [0, 0]]
        // logits = V diag(1/lambda) V^T prior over pairs 1 and 2, then columns scaled to norm sqrt(5).
        let v: [[Double]] = [[0.5, -0.2], [0.3, 0.4], [-0.4, 0.1], [-0.2, 0.6], [0.1, -0.3]]
        let inverse = [1 / 0.2, 1 / 0.5]
        var logits = [[Double]](repeating: [0, 0], count: 5)
        for row in 0..<5 {
            for c in 0..<2 {
                for pair in 0..<2 {
                    var projection = 0.0
                    for sample in 0..<5 { projection += Double(Float(v[sample][pair])) * prior[sample][c] }
                    logits[row][c] += Double(Float(v[row][pair])) * inverse[pair] * projection
                }
            }
        }
        for c in 0..<2 {
            let norm = (0..<5).reduce(0.0) { $0 + logits[$1][c] * logits[$1][c] }.squareRoot()
            for row in 0..<5 { logits[row][c] *= r5 / norm }
        }
        var options = NormalizedCut.PropagateOptions()
        options.temperature = 2
        let result = try NormalizedCut.propagate(eigen, split: split, splitPath: "s.h5", options: options).labels
        #expect(result.method == "ncut" && result.classCount == 2 && result.count == 5)
        for row in [1, 2, 4] {
            let (a, b) = (logits[row][0], logits[row][1])
            let label = a >= b ? 0 : 1
            let p0 = 1 / (1 + exp((b - a) * 2))
            #expect(result.labels[row] == Int32(label))
            #expect(abs(Double(result.probs[row * 2]) - p0) < 1e-6)
            #expect(abs(Double(result.confidence[row]) - max(p0, 1 - p0)) < 1e-6)
            #expect(abs(Double(result.weights![row]) - (1 - exp(-abs(a - b) / 2))) < 1e-6)
        }
        // Labelled samples keep their label, with certainty.
        #expect(result.labels[0] == 0 && result.labels[3] == 1)
        #expect(result.probs[0] == 1 && result.probs[7] == 1 && result.weights![0] == 1 && result.confidence[3] == 1)
        #expect(result.parameters["pairs"] == .int(2) && result.parameters["temperature"] == .double(2))
    }

    @Test func leavesOutOnePairPerComponent() throws {
        var disconnected = eigen
        disconnected.eigenvalues = [0, 2e-7, 0.5]
        let result = try NormalizedCut.propagate(disconnected, split: split, splitPath: "s.h5", options: .init()).labels
        #expect(result.parameters["skip"] == .int(2) && result.parameters["pairs"] == .int(1))
        let connected = try NormalizedCut.propagate(eigen, split: split, splitPath: "s.h5", options: .init()).labels
        #expect(connected.parameters["skip"] == .int(1) && connected.parameters["pairs"] == .int(2))
    }

    @Test func refusesSplitsAndOptionsItCannotUse() {
        let oneClass = Split(labeled: [0, 3], labeledLabels: [0, 0], unlabeled: [1, 2, 4], sampleCount: 5, classCount: 2)
        #expect(throws: MTError.badInput("s.h5", "/labeled_labels", "expected a labelled sample of every class 0..<2, found none of class 1")) {
            try NormalizedCut.propagate(eigen, split: oneClass, splitPath: "s.h5", options: .init()).labels
        }
        var options = NormalizedCut.PropagateOptions()
        options.alpha = 0.3
        #expect(throws: MTError.self) { try NormalizedCut.propagate(eigen, split: split, splitPath: "s.h5", options: options).labels }
        options = .init()
        options.skip = 3
        #expect(throws: MTError.self) { try NormalizedCut.propagate(eigen, split: split, splitPath: "s.h5", options: options).labels }
    }

    /// The whole method on the first 3000 MNIST digits (raw pixels, k = 10): 10 labels per class.
    @Test(.needsMNIST) func mnistSubsetAccuracyAboveFloor() throws {
        let dataset = try TestSupport.mnistTrain(limit: 3000)
        let features = PixelFeatures.extract(dataset, normalize: true)
        let graph = TestGraphs.bruteForce(features.values, count: features.count, dimension: features.dimension, k: 10)
        try TestSupport.withTemporaryDirectory { dir in
            try graph.write(dir + "/graph.h5", inputs: [])
            var options = NormalizedCut.EigenOptions()
            options.count = 50
            let eigen = try NormalizedCut.eigenpairs(of: KNNGraph.read(dir + "/graph.h5"), source: dir + "/graph.h5", options: options).eigen
            #expect(eigen.residuals.allSatisfy { $0 <= 1e-3 })
            #expect(abs(eigen.eigenvalues[0]) < 1e-5 && eigen.eigenvalues == eigen.eigenvalues.sorted())
            let split = try LabeledSplit.draw(labels: dataset.labels, classCount: 10, rule: .perClass(10), seed: 0).split
            let result = try NormalizedCut.propagate(eigen, split: split, splitPath: "split", options: .init()).labels
            let correct = split.unlabeled.filter { result.labels[$0] == dataset.labels[$0] }.count
            let accuracy = Double(correct) / Double(split.unlabeled.count)
            print("ncut accuracy on 3000 MNIST digits with 100 labels: \(accuracy)")
            #expect(accuracy > 0.8)
        }
    }
}
