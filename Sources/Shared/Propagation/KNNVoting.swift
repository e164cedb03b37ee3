import Foundation

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

    /// Propagates the split's labels to every row of `features`.
    public static func propagate(_ features: RowMatrix, split: Split, k: Int? = nil,
                                 temperature: Double = defaultTemperature, memoryBudget: Int = 1 << 30) throws -> PseudoLabels {
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
                        var used = 0
                        var best: Float = 0
                        for c in 0..<classes { scores[c] = 0 }
                        for position in 0..<fetched where used < voters {
                            let neighbor = Int(graph.neighbors[sample * fetched + position])
                            guard neighbor != slot else { continue }
                            let s = graph.similarities[sample * fetched + position]
                            if used == 0 { best = s }
                            scores[Int(split.labeledLabels[neighbor])] += exp((s - best) / t)
                            used += 1
                        }
                        if slot >= 0 {
                            hits[slot] = used > 0 && argmax(scores) == Int(split.labeledLabels[slot])
                            continue
                        }
                        let row = probs.baseAddress! + sample * classes
                        let total = scores.reduce(0, +)
                        for c in 0..<classes { row[c] = scores[c] / total }
                    }
                }
            }
        }
        if labeledCount > 1 {
            let accuracy = 100 * Double(leaveOneOutHits.filter { $0 }.count) / Double(labeledCount)
            Console.note(String(format: "leave-one-out accuracy of the vote on the %d labelled samples: %.1f%%", labeledCount, accuracy))
        }
        return PseudoLabels.fromDistributions(probs, count: count, split: split, method: "knn",
                                              parameters: ["k": .int(voters), "temperature": .double(temperature)])
    }

    /// The first index of the largest value.
    static func argmax(_ values: [Float]) -> Int {
        var best = 0
        for c in values.indices where values[c] > values[best] { best = c }
        return best
    }
}

extension PseudoLabels {
    /// Pseudo-labels from per-sample class distributions (rows summing to 1): labels are the argmax
    /// (first on ties), confidence the top probability; labelled samples are forced to their given label
    /// with a one-hot row.
    static func fromDistributions(_ distributions: [Float], count: Int, split: Split, method: String,
                                  parameters: [String: H5AttributeValue]) -> PseudoLabels {
        let classes = split.classCount
        var probs = distributions
        for (sample, label) in zip(split.labeled, split.labeledLabels) {
            for c in 0..<classes { probs[sample * classes + c] = c == Int(label) ? 1 : 0 }
        }
        var labels = [Int32](repeating: 0, count: count)
        var confidence = [Float](repeating: 0, count: count)
        for sample in 0..<count {
            var best = 0
            for c in 1..<max(1, classes) where probs[sample * classes + c] > probs[sample * classes + best] { best = c }
            labels[sample] = Int32(best)
            confidence[sample] = probs[sample * classes + best]
        }
        return PseudoLabels(probs: probs, labels: labels, confidence: confidence, count: count, classCount: classes,
                            labeled: split.labeled, labeledLabels: split.labeledLabels, method: method, parameters: parameters)
    }
}

extension KNNVoting {
    /// `mt-knn propagate`: reads the features and the split, votes, writes the pseudo-labels artifact.
    public static func run(features: String, split: String, k: Int?, temperature: Double, memoryBudget: Int,
                           output: String) throws {
        let rows = try RowMatrix(features: features)
        let labeled = try Split.read(split, sampleCount: rows.count)
        let result = try propagate(rows, split: labeled, k: k, temperature: temperature, memoryBudget: memoryBudget)
        try result.write(output, inputs: [features, split])
        Console.note("wrote \(output): pseudo-labels for \(result.count) samples from \(labeled.labeled.count) labels")
    }
}
