/// The public face of `TallProducts` for the layers above (PCA in MTAlgorithms): products with tall
/// matrices whose bits depend only on the shapes, never on the thread count. Call inside
/// `BLAS.singleThreaded`.
extension BLAS {
    /// C[p, width] = A^T B for A [rows, p] (leading dimension `lda`) and B [rows, width] (`ldb`).
    public static func tallTransposedProduct(_ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int,
                                             rows: Int, p: Int, width: Int, into c: UnsafeMutablePointer<Float>) {
        TallProducts.transposedProduct(a, lda: lda, b, ldb: ldb, rows: rows, p: p, width: width, into: c)
    }

    /// Y[rows, width] = A C for A [rows, p] (`lda`), C [p, width] and Y (`ldy`).
    public static func tallProduct(_ a: UnsafePointer<Float>, lda: Int, _ c: UnsafePointer<Float>, rows: Int, p: Int,
                                   width: Int, into y: UnsafeMutablePointer<Float>, ldy: Int) {
        TallProducts.product(a, lda: lda, c, rows: rows, p: p, width: width, into: y, ldy: ldy)
    }
}
