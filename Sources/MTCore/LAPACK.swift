import CBLAS

/// The LAPACK routines mt uses, each behind one throwing wrapper: a non-zero `info` (an illegal argument,
/// or a decomposition that did not converge) is an `MTError.failure`, never undefined behaviour.
public enum LAPACK {
    /// Eigendecomposition of the symmetric row-major [n, n] matrix `a` (upper triangle read) by `dsyevd`.
    /// Returns the eigenvalues in ascending order; on return `a` holds the unit eigenvectors as columns
    /// (column j belongs to eigenvalue j).
    public static func symmetricEigen(_ a: inout [Double], dimension n: Int) throws -> [Double] {
        precondition(a.count == n * n)
        var values = [Double](repeating: 0, count: n)
        let info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, CChar(UInt8(ascii: "V")), CChar(UInt8(ascii: "U")), Int32(n), &a, Int32(n), &values)
        try check(info, "dsyevd", n)
        return values
    }

    /// Householder QR of the row-major [rows, columns] matrix at `a` (leading dimension `columns`,
    /// rows >= columns) by `sgeqrf`: R in the upper triangle, the reflectors below it and in `tau`.
    public static func householderQR(_ a: UnsafeMutablePointer<Float>, rows: Int, columns: Int, tau: inout [Float]) throws {
        precondition(tau.count >= columns && rows >= columns)
        try check(LAPACKE_sgeqrf(LAPACK_ROW_MAJOR, Int32(rows), Int32(columns), a, Int32(columns), &tau), "sgeqrf", rows)
    }

    /// Forms Q explicitly from `householderQR`'s reflectors (`sorgqr`), in place.
    public static func formQ(_ a: UnsafeMutablePointer<Float>, rows: Int, columns: Int, tau: inout [Float]) throws {
        try check(LAPACKE_sorgqr(LAPACK_ROW_MAJOR, Int32(rows), Int32(columns), Int32(columns), a, Int32(columns), &tau), "sorgqr", rows)
    }

    private static func check(_ info: Int32, _ routine: String, _ size: Int) throws {
        guard info != 0 else { return }
        let reason = info < 0 ? "argument \(-info) was illegal" : "did not converge (info \(info))"
        throw MTError.failure("LAPACK \(routine) on a problem of size \(size): \(reason)")
    }
}
