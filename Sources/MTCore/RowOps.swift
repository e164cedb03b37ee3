/// Row-wise operations on row-major [rows, dimension] float matrices.
public enum RowOps {
    /// Scales every row to unit L2 norm (rows of norm 0 stay 0), in parallel. Unit rows make inner
    /// products cosine similarities, which the kNN graph and propagation assume.
    public static func normalize(_ values: UnsafeMutableBufferPointer<Float>, rows: Int, dimension: Int) {
        precondition(values.count >= rows * dimension)
        let base = values.baseAddress!
        Parallel.forEachChunk(rows, minimumChunk: 256) { range in
            for row in range {
                let start = base + row * dimension
                var sum: Float = 0
                for j in 0..<dimension { sum += start[j] * start[j] }
                guard sum > 0 else { continue }
                let scale = 1 / sum.squareRoot()
                for j in 0..<dimension { start[j] *= scale }
            }
        }
    }

    public static func normalize(_ values: inout [Float], rows: Int, dimension: Int) {
        values.withUnsafeMutableBufferPointer { normalize($0, rows: rows, dimension: dimension) }
    }
}
