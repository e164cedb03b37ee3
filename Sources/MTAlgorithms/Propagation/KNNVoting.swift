import Foundation
import MTCore

/// Weighted kNN voting, the label propagation of Liu et al. (Deep Metric Transfer, section 3.2).
///
/// Every sample looks up its K most similar labelled samples (K = min(#labelled, 200) by default) and
/// each of them votes for its class with weight exp(s / T), s the inner product (cosine for unit rows) and
/// T = 0.1; the class scores, normalised to sum 1, are the sample's class distribution. Only the split's
/// labels are used, never the true labels of unlabelled samples.
///
/// Labelled samples keep their given label (a one-hot distribution, confidence 1). Their own vote with
/// their self match removed (leave-one-out over the labelled set) is still computed, as a check of the
/// metric that needs no held-out labels: its accuracy is reported as a note.
///
/// Numerics: weights are computed as exp((s - s_max) / T) with s_max the sample's best similarity, which
/// leaves the normalised distribution unchanged but cannot overflow for unnormalised features.
public enum KNNVoting {
    public static let defaultK = 200
    public static let defaultTemperature = 0.1
    /// The monitor's voters and temperature (Wu et al. 2018: 200-NN, T = 0.07).
    public static let monitorK = 200
    public static let monitorTemperature = 0.07

    /// The pseudo-labels and, as a note, the leave-one-out accuracy of the vote on the labelled samples.
    public struct Result: Sendable {
        public var labels: PseudoLabels
        public var diagnostics: Diagnostics
    }

    /// Propagates the split's labels to every row of `features`.
    /// With a `prior`, the votes of each class are scaled by its factor (`PriorBalancing`).
    public static func propagate(_ features: RowMatrix, split: Split, k: Int? = nil,
                                 temperature: Double = defaultTemperature, prior: PriorBalancing? = nil,
                                 memoryBudget: Int = 1 << 30) throws -> Result {
        guard split.sampleCount == features.count else {
            throw MTError.badInput(features.origin, nil, "has \(features.count) rows, but the split is for \(split.sampleCount) samples")
        }
        guard !split.labeled.isEmpty else { throw MTError.usage("the split has no labelled samples") }
        guard temperature > 0 else { throw MTError.usage("--temperature must be positive, got \(temperature)") }
        if let k, k < 1 { throw MTError.usage("--k must be at least 1, got \(k)") }
        let labeledCount = split.labeled.count
        let voters = min(k ?? defaultK, labeledCount)
        // One extra neighbour so that a labelled sample still has K after dropping its own match.
        let fetched = min(voters + 1, labeledCount)

        // Reading the features once serves both the gather and the search when they fit the budget.
        if features.byteCount + labeledCount * features.dimension * MemoryLayout<Float>.size <= memoryBudget {
            try features.loadAll()
        }
        let labeledRows = try features.gather(split.labeled, blockBytes: min(memoryBudget / 4, 64 << 20))
        let database = try RowMatrix(labeledRows, count: labeledCount, dimension: features.dimension, origin: features.origin)
        let graph = try ExactKNN.search(features, database: database, k: fetched,
                                        memoryBudget: memoryBudget)

        let count = features.count, classes = split.classCount, t = Float(temperature)
        var labeledSlot = [Int](repeating: -1, count: count)
        for (slot, sample) in split.labeled.enumerated() { labeledSlot[sample] = slot }
        var probs = [Float](repeating: 0, count: count * classes)
        var leaveOneOutHits = [Bool](repeating: false, count: labeledCount)
        probs.withUnsafeMutableBufferPointer { probs in
            leaveOneOutHits.withUnsafeMutableBufferPointer { hits in
                Parallel.forEachChunk(count, minimumChunk: 512) { range in
                    var scores = [Float](repeating: 0, count: classes)
                    for sample in range {
                        let slot = labeledSlot[sample]
                        // The sample's own match (if labelled) is dropped; the best K of the rest vote.
                        let used = vote(graph, row: sample, voters: voters, excluding: slot, labels: split.labeledLabels,
                                        temperature: t, into: &scores)
                        if slot >= 0 {
                            hits[slot] = used > 0 && Argmax.of(scores) == Int(split.labeledLabels[slot])
                            continue
                        }
                        let row = probs.baseAddress! + sample * classes
                        let total = scores.reduce(0, +)
                        for c in 0..<classes { row[c] = scores[c] / total }
                    }
                }
            }
        }
        var diagnostics = Diagnostics()
        if labeledCount > 1 {
            let accuracy = 100 * Double(leaveOneOutHits.filter { $0 }.count) / Double(labeledCount)
            diagnostics.note(String(format: "leave-one-out accuracy of the vote on the %d labelled samples: %.1f%%", labeledCount, accuracy))
        }
        var labels = PseudoLabels.fromDistributions(probs, count: count, split: split, method: "knn",
                                                    parameters: ["k": .int(voters), "temperature": .double(temperature)])
        if let prior {
            let balanced = try prior.apply(to: labels)
            labels = balanced.labels
            diagnostics.append(balanced.diagnostics)
        }
        // Each labelled example's nearest samples in the metric, for the check of atypical examples.
        let probe = try ExactKNN.search(database, database: features, k: min(PseudoLabels.neighbourhoodSize + 1, count),
                                        memoryBudget: memoryBudget)
        let neighbours = split.labeled.enumerated().map { probe.neighbours(of: $0.offset, excluding: $0.element) }
        diagnostics.append(labels.neighbourhoodDiagnostics(neighbours: neighbours, space: "in the metric"))
        return Result(labels: labels, diagnostics: diagnostics)
    }

    /// The weighted vote of one row of `graph`: its first `voters` neighbours, skipping database row
    /// `excluded` (-1 for none), add exp((s - s_best) / T) to the score of their class (`labels` indexed by
    /// database row). Subtracting the best similarity leaves the normalised scores unchanged but cannot
    /// overflow. Returns how many neighbours voted.
    @inline(__always)
    static func vote(_ graph: KNNGraph, row: Int, voters: Int, excluding excluded: Int, labels: [Int32],
                     temperature t: Float, into scores: inout [Float]) -> Int {
        for c in scores.indices { scores[c] = 0 }
        var used = 0
        var best: Float = 0
        for position in 0..<graph.k where used < voters {
            let neighbor = Int(graph.neighbors[row * graph.k + position])
            guard neighbor != excluded else { continue }
            let s = graph.similarities[row * graph.k + position]
            if used == 0 { best = s }
            scores[Int(labels[neighbor])] += exp((s - best) / t)
            used += 1
        }
        return used
    }

    /// The voted class of every query row: kNN classification by the labelled reference rows, the
    /// reference's monitor of an embedding (Wu et al. 2018, section 3.4: k = 200, T = 0.07). Reference
    /// rows labelled -1 do not vote. nil when no reference row has a label.
    public static func classify(_ queries: RowMatrix, reference: [Float], referenceLabels: [Int32], dimension: Int,
                                k: Int = monitorK, temperature: Double = monitorTemperature, memoryBudget: Int = 1 << 30) throws -> [Int32]? {
        let voters = referenceLabels.indices.filter { referenceLabels[$0] >= 0 }
        guard !voters.isEmpty, queries.count > 0 else { return nil }
        var rows = [Float](repeating: 0, count: voters.count * dimension)
        for (slot, row) in voters.enumerated() {
            for j in 0..<dimension { rows[slot * dimension + j] = reference[row * dimension + j] }
        }
        let labels = voters.map { referenceLabels[$0] }
        let database = try RowMatrix(rows, count: voters.count, dimension: dimension, origin: queries.origin)
        let neighbours = min(k, voters.count)
        let graph = try ExactKNN.search(queries, database: database, k: neighbours, memoryBudget: memoryBudget)
        let classes = Int(labels.max()!) + 1, t = Float(temperature)
        var predicted = [Int32](repeating: 0, count: queries.count)
        predicted.withUnsafeMutableBufferPointer { out in
            let out = out
            Parallel.forEachChunk(queries.count, minimumChunk: 512) { range in
                var scores = [Float](repeating: 0, count: classes)
                for row in range {
                    _ = vote(graph, row: row, voters: neighbours, excluding: -1, labels: labels, temperature: t, into: &scores)
                    out[row] = Int32(Argmax.of(scores))
                }
            }
        }
        return predicted
    }

    /// Top-1 accuracy in [0, 1] of `classify` over the queries with a label (>= 0); nil when there are none.
    public static func accuracy(queries: [Float], queryLabels: [Int32], reference: [Float], referenceLabels: [Int32],
                                dimension: Int, k: Int = monitorK, temperature: Double = monitorTemperature) throws -> Double? {
        guard queryLabels.contains(where: { $0 >= 0 }),
              let predicted = try classify(RowMatrix(queries, count: queryLabels.count, dimension: dimension),
                                           reference: reference, referenceLabels: referenceLabels, dimension: dimension,
                                           k: k, temperature: temperature)
        else { return nil }
        let known = queryLabels.indices.filter { queryLabels[$0] >= 0 }
        return Double(known.filter { predicted[$0] == queryLabels[$0] }.count) / Double(known.count)
    }
}

extension PseudoLabels {
    /// Pseudo-labels from per-sample class distributions (rows summing to 1): labels are the argmax
    /// (first on ties), confidence the top probability; labelled samples are forced to their given label
    /// with a one-hot row.
    static func fromDistributions(_ distributions: [Float], count: Int, split: Split, method: String,
                                  parameters: [String: AttributeValue]) -> PseudoLabels {
        let classes = split.classCount
        var probs = distributions
        for (sample, label) in zip(split.labeled, split.labeledLabels) {
            for c in 0..<classes { probs[sample * classes + c] = c == Int(label) ? 1 : 0 }
        }
        var labels = [Int32](repeating: 0, count: count)
        var confidence = [Float](repeating: 0, count: count)
        for sample in 0..<count {
            let best = probs.withUnsafeBufferPointer { Argmax.of($0.baseAddress! + sample * classes, count: classes) }
            labels[sample] = Int32(best)
            confidence[sample] = probs[sample * classes + best]
        }
        return PseudoLabels(probs: probs, labels: labels, confidence: confidence, count: count, classCount: classes,
                            labeled: split.labeled, labeledLabels: split.labeledLabels, method: method, parameters: parameters)
    }
}
