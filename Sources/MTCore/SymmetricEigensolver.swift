import CBLAS
import Foundation

/// Largest eigenpairs of a sparse symmetric matrix.
public struct SymmetricEigenpairs: Sendable {
    /// Eigenvalues, largest first.
    public var values: [Float]
    /// Unit eigenvectors as the columns of a row-major [dimension, count] matrix.
    public var vectors: [Float]
    /// ||A v - theta v|| of each pair, recomputed from the returned vectors.
    public var residuals: [Float]
    public var count: Int
    public var dimension: Int
    /// Thick restarts and single-vector matrix products the solve took.
    public var restarts: Int
    public var products: Int
    /// Whether every pair met the tolerance (false when the restart limit stopped the solve).
    public var converged: Bool
}

/// Eigenvectors known exactly in advance, all for one eigenvalue (e.g. one per connected component of
/// a graph): orthonormal columns of a row-major [dimension, count] matrix.
public struct KnownEigenvectors: Sendable {
    public var vectors: [Float]
    public var count: Int
    public var value: Double

    public init(vectors: [Float], count: Int, value: Double) {
        self.vectors = vectors
        self.count = count
        self.value = value
    }
}

/// Block Krylov-Schur (thick-restart block Lanczos) for the largest eigenpairs of a symmetric matrix.
///
/// The basis grows a block of `blockSize` vectors at a time: one sparse mat-block product, then full
/// reorthogonalisation by block classical Gram-Schmidt (a pass against the two newest blocks, one against
/// the whole basis, a second whole pass when the DGKS criterion asks; each pass two BLAS gemms, which is
/// where the time goes), then a Householder QR of the block. The projected matrix H = V^T A V is kept
/// dense; when the basis reaches `basisSize` columns, H is diagonalised (LAPACK dsyevd), the `keep` leading
/// Ritz vectors replace the basis and the newest block stays as the residual direction. A Ritz pair
/// (theta, y) has residual ||A V y - theta V y|| = ||B y||, B the coupling of the residual block, which
/// needs no extra product; the solve stops when the `count` largest all satisfy
/// ||r|| <= tolerance * |theta| — ARPACK's criterion, so a tolerance means the same as scipy's `eigsh` tol.
///
/// Blocks amortise the pass over the matrix and turn the reorthogonalisation into gemms; exact repeated
/// eigenvalues are found up to the block size (a rank deficient block is refilled with fresh random
/// directions); eigenvectors known in advance (the components of a disconnected graph) start the basis
/// as converged Ritz vectors, so any multiplicity of them is exact. All arithmetic follows fixed orders
/// (row chunks fixed by size, OpenBLAS single-threaded inside them), so a seed gives the same pairs for any
/// thread count.
public struct SymmetricEigensolver {
    public var count: Int
    public var tolerance: Double
    public var blockSize: Int
    /// Basis columns before a restart (default max(2.5 count, count + 8 blocks)).
    public var basisSize: Int?
    /// Ritz vectors kept at a restart (default halfway between `count` and `basisSize`).
    public var keep: Int?
    public var maxRestarts: Int
    public var seed: UInt64

    public init(count: Int, tolerance: Double = 1e-3, blockSize: Int = 16, basisSize: Int? = nil, keep: Int? = nil,
                maxRestarts: Int = 300, seed: UInt64 = 0) {
        self.count = count
        self.tolerance = tolerance
        self.blockSize = blockSize
        self.basisSize = basisSize
        self.keep = keep
        self.maxRestarts = maxRestarts
        self.seed = seed
    }

    /// Progress after each restart: restarts so far, pairs converged, products so far.
    public typealias Report = (_ restarts: Int, _ converged: Int, _ products: Int) -> Void

    /// - Throws: `MTError.failure` when a LAPACK step fails.
    public func largest(of matrix: SparseMatrix, known: KnownEigenvectors? = nil, report: Report = { _, _, _ in }) throws -> SymmetricEigenpairs {
        // Parallelism comes from our fixed row chunks (TallProducts), never from OpenBLAS's threads.
        try BLAS.singleThreaded { try solve(matrix, known: known, report: report) }
    }

    private func solve(_ matrix: SparseMatrix, known: KnownEigenvectors?, report: Report) throws -> SymmetricEigenpairs {
        precondition(matrix.rows == matrix.columns && count >= 1 && count <= matrix.rows && blockSize >= 1)
        let n = matrix.rows
        if let known, known.count >= count {
            var vectors = [Float](repeating: 0, count: n * count)
            for row in 0..<n {
                for c in 0..<count { vectors[row * count + c] = known.vectors[row * known.count + c] }
            }
            return finish(matrix, vectors: vectors, restarts: 0, products: 0, converged: true)
        }
        let block = min(blockSize, max(1, n / 4))
        let basis = max(basisSize ?? max(5 * count / 2, count + 8 * block), count + 2 * block)
        guard basis + 3 * block <= n else { return try dense(matrix) }
        let solver = try KrylovSchur(matrix: matrix, block: block, basis: basis, seed: seed, known: known)
        let kept = min(basis - block, max(count + block, keep ?? (count + basis) / 2))
        var restarts = 0
        while true {
            try solver.fill()
            let ritz = try solver.rayleighRitz()
            let converged = (0..<count).count { ritz.residuals[$0] <= tolerance * max(abs(ritz.values[$0]), 1e-6) }
            report(restarts, converged, solver.products)
            if converged == count || restarts == maxRestarts {
                let vectors = solver.ritzVectors(ritz, count: count)
                return finish(matrix, vectors: vectors, restarts: restarts, products: solver.products,
                              converged: converged == count)
            }
            solver.restart(ritz, keep: kept)
            restarts += 1
        }
    }

    /// Small problems: the dense matrix through LAPACK dsyevd.
    private func dense(_ matrix: SparseMatrix) throws -> SymmetricEigenpairs {
        let n = matrix.rows
        var a = matrix.dense().map(Double.init)
        _ = try LAPACK.symmetricEigen(&a, dimension: n)
        var vectors = [Float](repeating: 0, count: n * count)
        for i in 0..<n {
            for j in 0..<count { vectors[i * count + j] = Float(a[i * n + (n - 1 - j)]) }
        }
        return finish(matrix, vectors: vectors, restarts: 0, products: 0, converged: true)
    }

    /// Rayleigh quotients, true residuals and a sign convention (largest-magnitude entry positive).
    private func finish(_ matrix: SparseMatrix, vectors: [Float], restarts: Int, products: Int, converged: Bool) -> SymmetricEigenpairs {
        let n = matrix.rows, k = count
        var product = [Float](repeating: 0, count: n * k)
        vectors.withUnsafeBufferPointer { v in
            product.withUnsafeMutableBufferPointer { av in matrix.multiply(v.baseAddress!, ldx: k, into: av.baseAddress!, ldy: k, width: k) }
        }
        let norms = ColumnReduction.sums(rows: n, width: k) { row, c in Double(vectors[row * k + c]) * Double(vectors[row * k + c]) }
        let quotients = ColumnReduction.sums(rows: n, width: k) { row, c in Double(vectors[row * k + c]) * Double(product[row * k + c]) }
        let values = (0..<k).map { quotients[$0] / norms[$0] }
        let squared = ColumnReduction.sums(rows: n, width: k) { row, c in
            let r = Double(product[row * k + c]) - values[c] * Double(vectors[row * k + c])
            return r * r
        }
        var signs = [Float](repeating: 1, count: k)
        for c in 0..<k {
            var best: Float = 0
            for row in 0..<n where abs(vectors[row * k + c]) > abs(best) { best = vectors[row * k + c] }
            signs[c] = Float((best < 0 ? -1 : 1) / norms[c].squareRoot())
        }
        // Recomputed Rayleigh quotients of close pairs may swap order: sort them again.
        let order = (0..<k).sorted { (values[$0], -$0) > (values[$1], -$1) }
        var sorted = [Float](repeating: 0, count: n * k)
        for row in 0..<n {
            for (c, source) in order.enumerated() { sorted[row * k + c] = vectors[row * k + source] * signs[source] }
        }
        return SymmetricEigenpairs(values: order.map { Float(values[$0]) }, vectors: sorted,
                                   residuals: order.map { Float((squared[$0] / norms[$0]).squareRoot()) },
                                   count: k, dimension: n, restarts: restarts, products: products, converged: converged)
    }
}

/// Column sums over the rows of the eigensolver's tall matrices, in Double, reduced over fixed blocks
/// of `chunkRows` rows (`DeterministicReduction`), so they do not depend on the thread count.
enum ColumnReduction {
    static let chunkRows = 2048

    /// sum over rows of term(row, c), for c in 0..<width.
    static func sums(rows: Int, width: Int, _ term: (Int, Int) -> Double) -> [Double] {
        DeterministicReduction.sum(rows: rows, blockRows: chunkRows, width: width) { range, sums in
            for row in range {
                for c in 0..<width { sums[c] += term(row, c) }
            }
        }
    }

    /// Squared L2 norms of the columns of a row-major [rows, width] matrix.
    static func squaredNorms(_ values: UnsafePointer<Float>, rows: Int, width: Int) -> [Double] {
        sums(rows: rows, width: width) { row, c in
            let value = values[row * width + c]
            return Double(value * value)
        }
    }
}
