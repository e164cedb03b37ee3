import MTAlgorithms
import MTCore

/// The non-parametric classifier of instance discrimination (Wu et al. 2018): one unit-norm embedding per
/// training image, [N, D] row-major. Row i stands for "class i"; the loss compares a fresh embedding of
/// image i with every row (full softmax) or with row i and K random rows (NCE).
///
/// Update (the reference's `memory.index_copy_` after backward): m_i <- normalize(momentum * m_i +
/// (1 - momentum) * x_i), with x_i the embedding just computed for image i (momentum 0.5 as the paper).
///
/// Initialisation matters on small networks. The reference draws the bank uniformly in [-s, s],
/// s = 1/sqrt(D/3), i.e. nearly orthogonal random directions, while a freshly initialised CNN maps every
/// image to nearly the same direction (non-negative pooled activations share a large common component;
/// mean pairwise cosine > 0.9 for `mnist-cnn`). `initialize(from:)` instead fills the bank with the
/// network's own embeddings, de-meaned and renormalised: the common component, which carries no
/// information about which image is which, is removed, so the first gradients push embeddings apart
/// along directions that do distinguish images rather than along the shared one.
public final class MemoryBank {
    public let count: Int
    public let dimension: Int
    public let momentum: Float
    /// [count, dimension], unit rows.
    public var values: [Float]

    public init(count: Int, dimension: Int, momentum: Float = 0.5, values: [Float]? = nil) {
        precondition(values.map { $0.count == count * dimension } ?? true, "memory bank: expected \(count)x\(dimension) values")
        self.count = count
        self.dimension = dimension
        self.momentum = momentum
        self.values = values ?? [Float](repeating: 0, count: count * dimension)
    }

    /// The reference's initialisation: uniform in [-s, s], s = 1/sqrt(D/3) (rows then normalised, so
    /// every row is a valid unit embedding from the first batch on).
    public func initializeRandom(seed: UInt64) {
        var rng = SeededGenerator(seed: seed, stream: 0xBA4C)
        let s = 1 / (Float(dimension) / 3).squareRoot()
        for i in 0..<values.count { values[i] = (2 * rng.nextUniform() - 1) * s }
        RowOps.normalize(&values, rows: count, dimension: dimension)
    }

    /// Fills the bank from embeddings [count, dimension] of every training image: subtracts the mean
    /// embedding, then normalises each row.
    public func initialize(from embeddings: [Float]) {
        precondition(embeddings.count == count * dimension)
        var mean = [Double](repeating: 0, count: dimension)
        for row in 0..<count {
            for j in 0..<dimension { mean[j] += Double(embeddings[row * dimension + j]) }
        }
        for j in 0..<dimension { mean[j] /= Double(count) }
        values = embeddings
        for row in 0..<count {
            for j in 0..<dimension { values[row * dimension + j] -= Float(mean[j]) }
        }
        RowOps.normalize(&values, rows: count, dimension: dimension)
    }

    /// m_i <- normalize(momentum * m_i + (1 - momentum) * x_i) for each (index i, row of `embeddings`
    /// [B, dimension]). A repeated index takes the last row's update.
    public func update(indices: [Int], embeddings: Tensor) {
        precondition(embeddings.batch == indices.count && embeddings.sampleSize == dimension)
        let d = dimension, m = momentum
        values.withUnsafeMutableBufferPointer { bank in
            for (row, index) in indices.enumerated() {
                let target = bank.baseAddress! + index * d
                var sum: Float = 0
                for j in 0..<d {
                    let v = m * target[j] + (1 - m) * embeddings.data[row * d + j]
                    target[j] = v
                    sum += v * v
                }
                if sum > 0 {
                    let scale = 1 / sum.squareRoot()
                    for j in 0..<d { target[j] *= scale }
                }
            }
        }
    }

    /// Mean cosine between distinct rows of unit vectors [n, d]: (|sum x|^2 - n) / (n (n - 1)). Near 1
    /// means collapse (everything points the same way); near 0, spread out.
    public static func meanPairwiseCosine(_ rows: [Float], count n: Int, dimension d: Int) -> Double {
        guard n > 1 else { return 1 }
        var sum = [Double](repeating: 0, count: d)
        var squares = 0.0
        for row in 0..<n {
            for j in 0..<d {
                let v = Double(rows[row * d + j])
                sum[j] += v
                squares += v * v
            }
        }
        let total = sum.reduce(0) { $0 + $1 * $1 }
        return (total - squares) / Double(n * (n - 1))
    }
}
