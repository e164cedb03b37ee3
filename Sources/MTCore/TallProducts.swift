/// Products with tall row-major matrices (N rows, N large), reproducible for any thread count.
///
/// OpenBLAS's own threading splits a gemm differently for different thread counts, which changes the
/// rounding (measured: a 60000x400 by 400x16 sgemm differs between 1 and 2 threads). Here the rows are
/// cut into fixed chunks, each chunk is one single-threaded gemm on some worker, and partial sums are
/// added in chunk order, so the bits depend only on the shapes. Callers run inside
/// `BLAS.singleThreaded`.
enum TallProducts {
    static let chunkRows = 4096

    /// C[p, width] = A^T B for A [rows, p] (leading dimension `lda`) and B [rows, width] (ldb).
    static func transposedProduct(_ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int,
                                  rows: Int, p: Int, width: Int, into c: UnsafeMutablePointer<Float>) {
        let chunks = (rows + chunkRows - 1) / chunkRows
        let partial = UnsafeMutablePointer<Float>.allocate(capacity: chunks * p * width)
        defer { partial.deallocate() }
        Parallel.forEachTask(chunks) { chunk in
            let start = chunk * chunkRows, count = min(rows, start + chunkRows) - start
            BLAS.gemm(a + start * lda, b + start * ldb, partial + chunk * p * width, m: p, n: width, k: count,
                      transposeA: true, lda: lda, ldb: ldb)
        }
        c.update(from: partial, count: p * width)
        for chunk in 1..<max(1, chunks) {
            let source = partial + chunk * p * width
            for i in 0..<(p * width) { c[i] += source[i] }
        }
    }

    /// Y[rows, width] = alpha A C + beta Y for A [rows, p] (lda), C [p, width], Y (ldy).
    static func product(_ a: UnsafePointer<Float>, lda: Int, _ c: UnsafePointer<Float>, rows: Int, p: Int, width: Int,
                        into y: UnsafeMutablePointer<Float>, ldy: Int, alpha: Float = 1, beta: Float = 0) {
        let chunks = (rows + chunkRows - 1) / chunkRows
        Parallel.forEachTask(chunks) { chunk in
            let start = chunk * chunkRows, count = min(rows, start + chunkRows) - start
            BLAS.gemm(a + start * lda, c, y + start * ldy, m: count, n: width, k: p, alpha: alpha, beta: beta,
                      lda: lda, ldc: ldy)
        }
    }
}
