/// Products with tall row-major matrices (N rows, N large), reproducible for any thread count.
///
/// OpenBLAS's own threading splits a gemm differently for different thread counts, which changes the
/// rounding (measured: a 60000x400 by 400x16 sgemm differs between 1 and 2 threads). Here the rows are
/// cut into fixed chunks, each chunk is one single-threaded gemm on some worker, and partial sums are
/// added in chunk order (`DeterministicReduction`), so the bits depend only on the shapes. Callers run inside
/// `BLAS.singleThreaded`.
enum TallProducts {
    static let chunkRows = 4096

    /// C[p, width] = A^T B for A [rows, p] (leading dimension `lda`) and B [rows, width] (ldb).
    static func transposedProduct(_ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int,
                                  rows: Int, p: Int, width: Int, into c: UnsafeMutablePointer<Float>) {
        DeterministicReduction.sum(rows: rows, blockRows: chunkRows, width: p * width, into: c) { range, partial in
            BLAS.gemm(a + range.lowerBound * lda, b + range.lowerBound * ldb, partial, m: p, n: width, k: range.count,
                      transposeA: true, lda: lda, ldb: ldb)
        }
    }

    /// Y[rows, width] = alpha A C + beta Y for A [rows, p] (lda), C [p, width], Y (ldy).
    static func product(_ a: UnsafePointer<Float>, lda: Int, _ c: UnsafePointer<Float>, rows: Int, p: Int, width: Int,
                        into y: UnsafeMutablePointer<Float>, ldy: Int, alpha: Float = 1, beta: Float = 0) {
        DeterministicReduction.forEachBlock(rows: rows, blockRows: chunkRows) { _, range in
            BLAS.gemm(a + range.lowerBound * lda, c, y + range.lowerBound * ldy, m: range.count, n: width, k: p,
                      alpha: alpha, beta: beta, lda: lda, ldc: ldy)
        }
    }
}
