import CBLAS

/// Row-major wrappers over OpenBLAS. Matrices are contiguous `[Float]` rows; leading dimensions default
/// to the natural row length so the common case needs no stride arguments.
public enum BLAS {
    /// C[m,n] = alpha * op(A) * op(B) + beta * C, where op(A) is [m,k] (A stored [k,m] when `transposeA`)
    /// and op(B) is [k,n] (B stored [n,k] when `transposeB`).
    @inline(__always)
    public static func gemm(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
                            m: Int, n: Int, k: Int, transposeA: Bool = false, transposeB: Bool = false,
                            alpha: Float = 1, beta: Float = 0, lda: Int? = nil, ldb: Int? = nil, ldc: Int? = nil) {
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha,
                    a, Int32(lda ?? (transposeA ? m : k)),
                    b, Int32(ldb ?? (transposeB ? k : n)), beta,
                    c, Int32(ldc ?? n))
    }

    /// Double-precision `gemm`, same conventions.
    @inline(__always)
    public static func gemm(_ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ c: UnsafeMutablePointer<Double>,
                            m: Int, n: Int, k: Int, transposeA: Bool = false, transposeB: Bool = false,
                            alpha: Double = 1, beta: Double = 0, lda: Int? = nil, ldb: Int? = nil, ldc: Int? = nil) {
        cblas_dgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha,
                    a, Int32(lda ?? (transposeA ? m : k)),
                    b, Int32(ldb ?? (transposeB ? k : n)), beta,
                    c, Int32(ldc ?? n))
    }

    /// Runs `body` with OpenBLAS limited to one thread, for BLAS calls made inside our own parallel loops
    /// (nested threading oversubscribes the cores).
    public static func singleThreaded<R>(_ body: () throws -> R) rethrows -> R {
        let previous = openblas_get_num_threads()
        openblas_set_num_threads(1)
        defer { openblas_set_num_threads(previous) }
        return try body()
    }
}
