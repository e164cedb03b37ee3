import Foundation
import MTAlgorithms
import MTCore

/// SimCLR's normalised-temperature cross-entropy (Chen et al. 2020) over one batch holding two augmented
/// views of B images: rows 0..<B are view 1, rows B..<2B view 2 (row a's positive is p(a) = a ± B).
/// No memory bank: the other 2B - 2 rows of the batch are the negatives.
///
/// Input z [2B, D] (unit rows in practice; the gradient is exact for any z). With S = z z^T / T,
///     loss = (1/2B) sum_a [ log sum_{b != a} exp(S_ab) - S_a,p(a) ]
///     G_ab = (softmax_{b != a}(S_a)_b - [b = p(a)]) / 2B   (G_aa = 0),     dz = (G + G^T) z / T.
/// Two sgemms of [2B, 2B, D] (single-threaded, so results do not depend on --threads); rows in parallel;
/// float64 sums.
public struct NTXentLoss: Sendable {
    public var temperature: Double

    public init(temperature: Double = 0.2) { self.temperature = temperature }

    /// z [2B, D] -> loss and dz [2B, D].
    public func callAsFunction(_ z: Tensor) -> LossResult {
        let rows = z.batch, d = z.sampleSize, half = rows / 2, t = temperature
        precondition(rows % 2 == 0 && rows >= 4, "nt-xent: expected [2B, D] with B >= 2, found \(z.shape)")
        var similarity = [Float](repeating: 0, count: rows * rows)
        // Single-threaded sgemms, as the engine's layers: results must not depend on the thread count.
        BLAS.singleThreaded { BLAS.gemm(z.data, z.data, &similarity, m: rows, n: rows, k: d, transposeB: true, alpha: Float(1 / t)) }
        var sampleLoss = [Double](repeating: 0, count: rows)
        let inverseCount = 1 / Double(rows)
        // Row a of `similarity` becomes G_a.
        similarity.withUnsafeMutableBufferPointer { ss in
            sampleLoss.withUnsafeMutableBufferPointer { ls in
                let sp = ss.baseAddress!
                Parallel.forEach(rows) { a in
                    let row = sp + a * rows, positive = (a + half) % rows
                    var maximum = -Float.infinity
                    for b in 0..<rows where b != a { maximum = max(maximum, row[b]) }
                    var sum = 0.0
                    for b in 0..<rows where b != a { sum += Foundation.exp(Double(row[b] - maximum)) }
                    ls[a] = Foundation.log(sum) + Double(maximum) - Double(row[positive])
                    for b in 0..<rows {
                        row[b] = b == a ? 0 : Float(Foundation.exp(Double(row[b] - maximum)) / sum * inverseCount)
                    }
                    row[positive] -= Float(inverseCount)
                }
            }
        }
        // G + G^T, then dz = (G + G^T) z / T.
        for a in 0..<rows {
            for b in (a + 1)..<rows {
                let s = similarity[a * rows + b] + similarity[b * rows + a]
                similarity[a * rows + b] = s
                similarity[b * rows + a] = s
            }
        }
        var gradient = Tensor(zeros: z.shape)
        gradient.data.withUnsafeMutableBufferPointer { g in
            BLAS.singleThreaded { BLAS.gemm(similarity, z.data, g.baseAddress!, m: rows, n: d, k: rows, alpha: Float(1 / t)) }
        }
        return LossResult(loss: sampleLoss.reduce(0, +) * inverseCount, gradient: gradient)
    }
}
