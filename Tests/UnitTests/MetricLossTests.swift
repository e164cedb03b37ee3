import Foundation
import Testing
@testable import MTCore
@testable import MTStorage
@testable import MTAlgorithms
@testable import MTNetwork
@testable import MTCommand

/// Finite-difference checks of the metric-learning losses (NCE, full non-parametric softmax, NT-Xent)
/// and the memory bank's arithmetic. Losses are probed directly (their value is the scalar), central
/// differences with eps = 1e-3 on unit-scale inputs; a wrong term or sign is off by O(1) of the gradient.
@Suite("Metric losses")
struct MetricLossTests {
    static func unitRows(_ rows: Int, _ d: Int, seed: UInt64) -> [Float] {
        var rng = SeededGenerator(seed: seed)
        var values = (0..<(rows * d)).map { _ in rng.nextNormal() }
        RowOps.normalize(&values, rows: rows, dimension: d)
        return values
    }

    /// Max |numeric - analytic| over every entry, relative to the largest analytic entry.
    static func relativeError(_ x: Tensor, analytic: Tensor, eps: Float = 1e-3, loss: (Tensor) -> Double) -> Double {
        var worst = 0.0
        for i in 0..<x.count {
            var plus = x, minus = x
            plus.data[i] += eps
            minus.data[i] -= eps
            let numeric = (loss(plus) - loss(minus)) / Double(2 * eps)
            worst = max(worst, abs(numeric - Double(analytic.data[i])))
        }
        let scale = Double(analytic.data.map(abs).max() ?? 0)
        return worst / max(scale, 1e-6)
    }

    @Test func nceGradientMatchesFiniteDifferences() {
        let bank = MemoryBank(count: 40, dimension: 8, values: Self.unitRows(40, 8, seed: 1))
        let x = Tensor(shape: [5, 8], data: Self.unitRows(5, 8, seed: 2))
        let indices = [3, 17, 0, 39, 17]
        for temperature in [0.07, 0.5] {
            var loss = NCELoss(noiseCount: 12, temperature: temperature)
            let result = loss(x, indices: indices, bank: bank, seed: 5, step: 9)
            #expect(result.loss.isFinite && result.loss > 0)
            let z = loss.normalizer
            #expect(z != nil)
            let error = Self.relativeError(x, analytic: result.gradient) { probe in
                loss(probe, indices: indices, bank: bank, seed: 5, step: 9).loss
            }
            #expect(loss.normalizer == z, "Z is estimated once and then frozen")
            #expect(error < 1e-2, "NCE T=\(temperature): relative gradient error \(error)")
        }
    }

    @Test func nceNoiseIsPerSampleSeededAndThreadIndependent() {
        let bank = MemoryBank(count: 1000, dimension: 4, values: Self.unitRows(1000, 4, seed: 3))
        // Two identical samples still get different noise rows, so different gradients.
        let row = Self.unitRows(1, 4, seed: 4)
        let x = Tensor(shape: [2, 4], data: row + row)
        var loss = NCELoss(noiseCount: 64, temperature: 0.07)
        let one = Parallel.$threadCount.withValue(1) { loss(x, indices: [7, 7], bank: bank, seed: 1, step: 0) }
        let two = Parallel.$threadCount.withValue(2) { loss(x, indices: [7, 7], bank: bank, seed: 1, step: 0) }
        #expect(one.gradient.data == two.gradient.data && one.loss == two.loss)
        #expect(Array(one.gradient.data[0..<4]) != Array(one.gradient.data[4..<8]))
        let other = loss(x, indices: [7, 7], bank: bank, seed: 1, step: 1)
        #expect(other.gradient.data != one.gradient.data, "a new step draws new noise")
    }

    @Test func nceNormalizerFrozenOrRefreshedPerBatch() {
        let bank = MemoryBank(count: 100, dimension: 8, values: Self.unitRows(100, 8, seed: 13))
        let x = Tensor(shape: [4, 8], data: Self.unitRows(4, 8, seed: 14))
        let aligned = Tensor(shape: [4, 8], data: Array(bank.values[0..<32]))
        var frozen = NCELoss(noiseCount: 50, temperature: 0.1)
        _ = frozen(x, indices: [0, 1, 2, 3], bank: bank, seed: 0, step: 0)
        let z = frozen.normalizer!
        // Z = N * mean exp(x . m / T) over the batch's B x (K+1) scores, so of the order of N.
        #expect(z > 10 && z < 100 * 1e3)
        _ = frozen(aligned, indices: [0, 1, 2, 3], bank: bank, seed: 0, step: 1)
        #expect(frozen.normalizer == z)
        var refreshed = NCELoss(noiseCount: 50, temperature: 0.1, refreshesNormalizer: true)
        _ = refreshed(x, indices: [0, 1, 2, 3], bank: bank, seed: 0, step: 0)
        #expect(refreshed.normalizer == z)
        _ = refreshed(aligned, indices: [0, 1, 2, 3], bank: bank, seed: 0, step: 1)
        #expect(refreshed.normalizer! > z, "positives scoring exp(1/T) raise the batch estimate")
    }

    @Test func fullSoftmaxGradientMatchesFiniteDifferences() {
        let bank = MemoryBank(count: 30, dimension: 6, values: Self.unitRows(30, 6, seed: 6))
        let x = Tensor(shape: [4, 6], data: Self.unitRows(4, 6, seed: 7))
        let indices = [0, 29, 11, 5]
        var loss = NCELoss(noiseCount: 0, temperature: 0.1)
        let result = loss(x, indices: indices, bank: bank, seed: 0, step: 0)
        // Reference value in float64: mean of logsumexp - positive logit.
        var expected = 0.0
        for i in 0..<4 {
            var logits = [Double](repeating: 0, count: 30)
            for j in 0..<30 {
                var dot = 0.0
                for c in 0..<6 { dot += Double(x.data[i * 6 + c]) * Double(bank.values[j * 6 + c]) }
                logits[j] = dot / 0.1
            }
            let top = logits.max()!
            var sum = 0.0
            for value in logits { sum += exp(value - top) }
            expected += log(sum) + top - logits[indices[i]]
        }
        #expect(abs(result.loss - expected / 4) < 1e-4)
        let error = Self.relativeError(x, analytic: result.gradient) { loss($0, indices: indices, bank: bank, seed: 0, step: 0).loss }
        #expect(error < 1e-2, "softmax: relative gradient error \(error)")
    }

    @Test func ntXentGradientMatchesFiniteDifferences() {
        let z = Tensor(shape: [6, 5], data: Self.unitRows(6, 5, seed: 8))
        for temperature in [0.1, 0.5] {
            let loss = NTXentLoss(temperature: temperature)
            let result = loss(z)
            let error = Self.relativeError(z, analytic: result.gradient) { loss($0).loss }
            #expect(error < 1e-2, "NT-Xent T=\(temperature): relative gradient error \(error)")
        }
    }

    @Test func ntXentPrefersAlignedViews() {
        let views = Self.unitRows(8, 16, seed: 9)
        let aligned = NTXentLoss(temperature: 0.2)(Tensor(shape: [16, 16], data: views + views)).loss
        let shuffled = NTXentLoss(temperature: 0.2)(Tensor(shape: [16, 16], data: views + Self.unitRows(8, 16, seed: 10))).loss
        #expect(aligned < shuffled)
        // Collapsed embeddings (all equal): every logit is the same, loss = log(2B - 1).
        let same = [Float](repeating: 0.5, count: 16 * 4)
        #expect(abs(NTXentLoss(temperature: 0.2)(Tensor(shape: [16, 4], data: same)).loss - log(15.0)) < 1e-4)
    }

    @Test func memoryBankMomentumUpdateAndDeMeanedInit() {
        let bank = MemoryBank(count: 3, dimension: 2, momentum: 0.5, values: [1, 0, 0, 1, 1, 0])
        bank.update(indices: [1], embeddings: Tensor(shape: [1, 2], data: [1, 0]))
        let r = Float(0.5).squareRoot()
        #expect(abs(bank.values[2] - r) < 1e-6 && abs(bank.values[3] - r) < 1e-6)
        #expect(bank.values[0] == 1 && bank.values[4] == 1, "other rows untouched")

        // Embeddings sharing a large common direction, as a fresh CNN produces.
        var rng = SeededGenerator(seed: 11)
        let n = 200, d = 16
        var raw = (0..<(n * d)).map { j in (j % d == 0 ? 3 : 0) + 0.3 * rng.nextNormal() }
        RowOps.normalize(&raw, rows: n, dimension: d)
        #expect(MemoryBank.meanPairwiseCosine(raw, count: n, dimension: d) > 0.8)
        let initialised = MemoryBank(count: n, dimension: d)
        initialised.initialize(from: raw)
        #expect(abs(MemoryBank.meanPairwiseCosine(initialised.values, count: n, dimension: d)) < 0.05)
        for row in 0..<n {
            let norm = (0..<d).reduce(Float(0)) { $0 + initialised.values[row * d + $1] * initialised.values[row * d + $1] }
            #expect(abs(norm - 1) < 1e-4)
        }
    }

    @Test func meanPairwiseCosineMatchesBruteForce() {
        let n = 7, d = 3
        let rows = Self.unitRows(n, d, seed: 12)
        var sum = 0.0
        for i in 0..<n {
            for j in 0..<n where j != i {
                sum += (0..<d).reduce(0.0) { $0 + Double(rows[i * d + $1]) * Double(rows[j * d + $1]) }
            }
        }
        #expect(abs(MemoryBank.meanPairwiseCosine(rows, count: n, dimension: d) - sum / Double(n * (n - 1))) < 1e-6)
    }
}
