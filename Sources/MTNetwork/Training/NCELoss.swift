import Foundation
import MTAlgorithms
import MTCore

/// The instance-discrimination loss of Wu et al. 2018 against a `MemoryBank` (the reference's
/// `NCEAverage` + `NCECriterion`, or `LinearAverage` + cross-entropy when there are no noise samples).
///
/// Input x [B, D]: the network's embeddings of images `indices` (unit rows in practice; the gradient is
/// exact for any x). Output: the loss and d(loss)/dx [B, D]. The bank is read, not updated (the caller
/// updates it after the step, as the reference does in backward).
///
/// NCE (noise samples K > 0): each sample i draws its own K noise rows uniformly from the N bank rows
/// (with replacement, the positive row may be among them, as the reference's alias sampler), from RNG
/// stream (seed, step, i) so the draws do not depend on the thread count. With
///     P_ij = exp(x_i . m_j / T) / Z,        Pn = 1/N,   j = 0 the positive row y_i, j = 1..K the noise rows,
///     loss = -(1/B) sum_i [ log(P_i0 / (P_i0 + K Pn)) + sum_k log(K Pn / (P_ik + K Pn)) ]
///     dx_i = (1/(B T)) [ -K Pn / (P_i0 + K Pn) m_y_i + sum_k P_ik / (P_ik + K Pn) m_k ].
/// Z is the reference's constant: estimated once on the first batch as N * mean_ij exp(x_i . m_j / T) and
/// then frozen (it is part of the checkpoint so a resumed run continues with the same Z). With
/// `refreshesNormalizer` Z is re-estimated the same way on every batch and treated as a constant in the
/// gradient. Why this matters: with a frozen Z, once similarities grow past those of the first batch every
/// noise term saturates (P_ik >> K Pn, weight P/(P + K Pn) -> 1), the noise pull sum_k m_k outweighs the
/// positive K-fold, and the cheapest way down is to move every embedding together away from the stale bank;
/// on `mnist-cnn` this collapses all embeddings to one direction within an epoch. A per-batch Z keeps
/// P_ik ~ 1/N for typical rows, so the noise weights sum to about 1, as the softmax's do.
///
/// Full non-parametric softmax (K = 0), cheap whenever B x N fits in memory:
///     loss = (1/B) sum_i [ logsumexp_j(x_i . m_j / T) - x_i . m_y_i / T ],   dx = (softmax - onehot) M / (B T).
/// On MNIST it costs 2 B N D flops a step, ~2 GFLOP for N = 60k, under a sixth of a `mnist-cnn` step.
public struct NCELoss: Sendable {
    /// K; 0 means the full softmax over all N rows.
    public var noiseCount: Int
    public var temperature: Double
    /// The NCE normaliser Z, set by the first NCE call when nil.
    public var normalizer: Double?
    /// Re-estimate Z on every batch instead of freezing the first estimate.
    public var refreshesNormalizer: Bool

    public init(noiseCount: Int = 4096, temperature: Double = 0.07, normalizer: Double? = nil, refreshesNormalizer: Bool = false) {
        self.noiseCount = noiseCount
        self.temperature = temperature
        self.normalizer = normalizer
        self.refreshesNormalizer = refreshesNormalizer
    }

    /// x [B, D], indices [B] into the bank -> loss and dx [B, D]; `step` selects the noise draws.
    public mutating func callAsFunction(_ x: Tensor, indices: [Int], bank: MemoryBank, seed: UInt64, step: UInt64) -> LossResult {
        precondition(x.batch == indices.count && x.sampleSize == bank.dimension, "nce: expected [\(indices.count),\(bank.dimension)], found \(x.shape)")
        return noiseCount == 0 ? softmax(x, indices: indices, bank: bank) : nce(x, indices: indices, bank: bank, seed: seed, step: step)
    }

    private mutating func nce(_ x: Tensor, indices: [Int], bank: MemoryBank, seed: UInt64, step: UInt64) -> LossResult {
        let b = x.batch, d = bank.dimension, k = noiseCount, n = bank.count, t = temperature
        let columns = k + 1
        // [B, K+1] bank rows (column 0 the positive) and exp(x_i . m_j / T).
        var rows = [Int32](repeating: 0, count: b * columns)
        var scores = [Double](repeating: 0, count: b * columns)
        let streamSeed = seed &+ step &* 0x9E37_79B9_7F4A_7C15
        x.data.withUnsafeBufferPointer { xs in
            bank.values.withUnsafeBufferPointer { ms in
                rows.withUnsafeMutableBufferPointer { rs in
                    scores.withUnsafeMutableBufferPointer { ss in
                        let xp = xs.baseAddress!, mp = ms.baseAddress!, rp = rs.baseAddress!, sp = ss.baseAddress!
                        Parallel.forEach(b) { i in
                            var rng = SeededGenerator(seed: streamSeed, stream: UInt64(i))
                            let r = rp + i * columns, s = sp + i * columns, xi = xp + i * d
                            r[0] = Int32(indices[i])
                            for j in 1..<columns { r[j] = Int32(rng.next() % UInt64(n)) }
                            for j in 0..<columns {
                                let m = mp + Int(r[j]) * d
                                var dot: Float = 0
                                for c in 0..<d { dot += xi[c] * m[c] }
                                s[j] = Foundation.exp(Double(dot) / t)
                            }
                        }
                    }
                }
            }
        }
        if normalizer == nil || refreshesNormalizer {
            normalizer = scores.reduce(0, +) / Double(scores.count) * Double(n)
        }
        let z = normalizer!, kpn = Double(k) / Double(n)
        var gradient = Tensor(zeros: x.shape)
        var sampleLoss = [Double](repeating: 0, count: b)
        let scale = 1 / (Double(b) * t)
        rows.withUnsafeBufferPointer { rs in
            scores.withUnsafeBufferPointer { ss in
                bank.values.withUnsafeBufferPointer { ms in
                    gradient.data.withUnsafeMutableBufferPointer { gs in
                        sampleLoss.withUnsafeMutableBufferPointer { ls in
                            let rp = rs.baseAddress!, sp = ss.baseAddress!, mp = ms.baseAddress!, gp = gs.baseAddress!
                            Parallel.forEach(b) { i in
                                let r = rp + i * columns, s = sp + i * columns, g = gp + i * d
                                var loss = 0.0
                                for j in 0..<columns {
                                    let p = s[j] / z
                                    let coefficient: Double
                                    if j == 0 {
                                        loss -= Foundation.log(p / (p + kpn))
                                        coefficient = -kpn / (p + kpn)
                                    } else {
                                        loss -= Foundation.log(kpn / (p + kpn))
                                        coefficient = p / (p + kpn)
                                    }
                                    let c = Float(coefficient * scale), m = mp + Int(r[j]) * d
                                    for e in 0..<d { g[e] += c * m[e] }
                                }
                                ls[i] = loss
                            }
                        }
                    }
                }
            }
        }
        return LossResult(loss: sampleLoss.reduce(0, +) / Double(b), gradient: gradient)
    }

    private func softmax(_ x: Tensor, indices: [Int], bank: MemoryBank) -> LossResult {
        let b = x.batch, d = bank.dimension, n = bank.count, t = temperature
        // logits [B, N] = x M^T / T, turned into dL/dlogits in place.
        var logits = [Float](repeating: 0, count: b * n)
        // Single-threaded sgemm, as the engine's layers: results must not depend on the thread count.
        BLAS.singleThreaded { BLAS.gemm(x.data, bank.values, &logits, m: b, n: n, k: d, transposeB: true, alpha: Float(1 / t)) }
        var sampleLoss = [Double](repeating: 0, count: b)
        logits.withUnsafeMutableBufferPointer { ls in
            sampleLoss.withUnsafeMutableBufferPointer { losses in
                let lp = ls.baseAddress!
                Parallel.forEach(b) { i in
                    let row = lp + i * n
                    var maximum = -Float.infinity
                    for j in 0..<n { maximum = max(maximum, row[j]) }
                    var sum = 0.0
                    for j in 0..<n { sum += Foundation.exp(Double(row[j] - maximum)) }
                    losses[i] = Foundation.log(sum) + Double(maximum) - Double(row[indices[i]])
                    let inverse = 1 / (sum * Double(b))
                    for j in 0..<n { row[j] = Float(Foundation.exp(Double(row[j] - maximum)) * inverse) }
                    row[indices[i]] -= Float(1 / Double(b))
                }
            }
        }
        var gradient = Tensor(zeros: x.shape)
        gradient.data.withUnsafeMutableBufferPointer { g in
            BLAS.singleThreaded { BLAS.gemm(logits, bank.values, g.baseAddress!, m: b, n: d, k: n, alpha: Float(1 / t)) }
        }
        return LossResult(loss: sampleLoss.reduce(0, +) / Double(b), gradient: gradient)
    }
}
