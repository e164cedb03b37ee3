import Foundation

/// The reference's training monitor (`test.py: kNN`, Wu et al. 2018 section 3.4): classify each held-out
/// embedding by weighted voting of its k nearest training embeddings, weight exp(cos / T), and report the
/// top-1 accuracy. Embeddings are unit rows, so cosine = inner product; similarities come from one sgemm
/// per block of 256 queries, the k best per query by a partial selection, queries in parallel.
public enum KNNMonitor {
    /// Accuracy in [0, 1] over queries with a label (>= 0); nil when there are none.
    /// - Parameters: reference [n, d] with `referenceLabels` (negative = unlabelled, ignored), queries [m, d].
    public static func accuracy(reference: [Float], referenceLabels: [Int32], queries: [Float], queryLabels: [Int32],
                                dimension d: Int, k: Int = 200, temperature: Double = 0.07) -> Double? {
        guard queryLabels.contains(where: { $0 >= 0 }),
              let predicted = predict(reference: reference, referenceLabels: referenceLabels, queries: queries,
                                      queryCount: queryLabels.count, dimension: d, k: k, temperature: temperature)
        else { return nil }
        var correct = 0, counted = 0
        for (label, guess) in zip(queryLabels, predicted) where label >= 0 {
            counted += 1
            if label == guess { correct += 1 }
        }
        return Double(correct) / Double(counted)
    }

    /// The voted class of every query row [m]; nil when the reference has no labelled row.
    public static func predict(reference: [Float], referenceLabels: [Int32], queries: [Float], queryCount m: Int,
                               dimension d: Int, k: Int = 200, temperature: Double = 0.07) -> [Int32]? {
        let n = referenceLabels.count
        let classes = Int((referenceLabels.max() ?? -1) + 1)
        guard n > 0, m > 0, classes > 0 else { return nil }
        let neighbours = min(k, n), block = 256
        var predicted = [Int32](repeating: -1, count: m)
        var similarity = [Float](repeating: 0, count: block * n)
        for start in stride(from: 0, to: m, by: block) {
            let rows = min(block, m - start)
            queries.withUnsafeBufferPointer { q in
                BLAS.gemm(q.baseAddress! + start * d, reference, &similarity, m: rows, n: n, k: d, transposeB: true)
            }
            similarity.withUnsafeBufferPointer { ss in
                predicted.withUnsafeMutableBufferPointer { ps in
                    let sp = ss.baseAddress!, out = ps.baseAddress! + start
                    Parallel.forEachChunk(rows, minimumChunk: 16) { range in
                        var order = [Int](repeating: 0, count: n)
                        var votes = [Double](repeating: 0, count: classes)
                        for row in range {
                            let s = sp + row * n
                            // Indices of the `neighbours` largest similarities (order among them is irrelevant).
                            for j in 0..<n { order[j] = j }
                            order.withUnsafeMutableBufferPointer { select(s, $0, count: neighbours) }
                            for c in 0..<classes { votes[c] = 0 }
                            for j in order.prefix(neighbours) where referenceLabels[j] >= 0 {
                                votes[Int(referenceLabels[j])] += Foundation.exp(Double(s[j]) / temperature)
                            }
                            var best = 0
                            for c in 1..<classes where votes[c] > votes[best] { best = c }
                            out[row] = Int32(best)
                        }
                    }
                }
            }
        }
        return predicted
    }

    /// Quickselect: rearranges `order` so its first `count` entries index the largest values of `values`.
    static func select(_ values: UnsafePointer<Float>, _ order: UnsafeMutableBufferPointer<Int>, count: Int) {
        var low = 0, high = order.count - 1
        while low < high {
            let pivot = values[order[(low + high) / 2]]
            var i = low, j = high
            while i <= j {
                while values[order[i]] > pivot { i += 1 }
                while values[order[j]] < pivot { j -= 1 }
                if i <= j {
                    order.swapAt(i, j)
                    i += 1
                    j -= 1
                }
            }
            if count - 1 <= j { high = j } else if count - 1 >= i { low = i } else { return }
        }
    }
}
