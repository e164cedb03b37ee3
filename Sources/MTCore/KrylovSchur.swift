import CBLAS
import Foundation

/// Ritz values (largest first), Ritz vectors in basis coordinates and their residual estimates.
struct RitzPairs {
    var values: [Double]
    /// Row-major [size, size]: column j holds the coordinates of Ritz vector j in the basis.
    var coordinates: [Double]
    /// Row-major [block, size]: B Y, the residual block's coupling to each Ritz vector.
    var coupling: [Double]
    var residuals: [Double]
    var size: Int
}

/// The state of the block Krylov-Schur iteration of `SymmetricEigensolver`: an orthonormal basis V
/// (row-major [n, ld]) whose first `m` columns satisfy A V_m = V_m H_m + V_res B, with V_res the next
/// `block` columns, and the projected matrix H (Double [ld, ld]).
final class KrylovSchur {
    let matrix: SparseMatrix
    let n: Int, block: Int, basis: Int, ld: Int
    private(set) var products = 0
    private var m = 0
    private let v: UnsafeMutablePointer<Float>
    private let h: UnsafeMutablePointer<Double>
    private let x: UnsafeMutablePointer<Float>, w: UnsafeMutablePointer<Float>
    private let coefficients: UnsafeMutablePointer<Float>
    private var random: SeededGenerator

    /// Starts the basis with the `known` eigenvectors (as converged Ritz vectors, coupling 0) followed by
    /// a random block orthogonal to them.
    init(matrix: SparseMatrix, block: Int, basis: Int, seed: UInt64, known: KnownEigenvectors?) throws {
        self.matrix = matrix
        n = matrix.rows
        self.block = block
        self.basis = basis
        ld = basis + 2 * block
        v = .allocate(capacity: n * ld)
        h = .allocate(capacity: ld * ld)
        x = .allocate(capacity: n * block)
        w = .allocate(capacity: n * block)
        coefficients = .allocate(capacity: ld * block)
        random = SeededGenerator(seed: seed)
        h.initialize(repeating: 0, count: ld * ld)
        let fixed = known?.count ?? 0
        if let known, fixed > 0 {
            known.vectors.withUnsafeBufferPointer { source in
                for row in 0..<n { (v + row * ld).update(from: source.baseAddress! + row * fixed, count: fixed) }
            }
            for i in 0..<fixed { h[i * ld + i] = known.value }
        }
        for i in 0..<(n * block) { w[i] = random.nextNormal() }
        let norms = blockNorms()
        var unused = [Double](repeating: 0, count: fixed * block)
        if fixed > 0 {
            project(onto: 0..<fixed, total: &unused)
            project(onto: 0..<fixed, total: &unused)
        }
        _ = try orthonormalize(columns: fixed, norms: norms)
        store(at: fixed)
        m = fixed
    }

    deinit {
        for pointer in [v, x, w, coefficients] { pointer.deallocate() }
        h.deallocate()
    }

    /// Grows the basis block by block until it holds at least `basis` columns.
    func fill() throws {
        while m < basis { try expand() }
    }

    /// One block step: W = A V[:, m..<m+b], block Gram-Schmidt against the basis V[:, 0..<m+b] (the
    /// coefficients fill H's column block), then the block QR that yields the next basis block.
    ///
    /// Lanczos puts nearly all of A V_j on the two newest blocks, so those are projected out first (a
    /// cheap local pass); one full pass then removes what remains, and a second full pass runs only when
    /// the full pass cancelled more than 30% of a column's norm (the DGKS criterion), e.g. in the first
    /// block after a restart, whose product has a component on every kept Ritz vector.
    private func expand() throws {
        let p = m + block
        copyColumns(from: v, ld: ld, offset: m, to: x)
        matrix.multiply(x, ldx: block, into: w, ldy: block, width: block)
        products += block
        let norms = blockNorms()
        var total = [Double](repeating: 0, count: p * block)
        project(onto: max(0, m - block)..<p, total: &total)
        let local = blockNorms()
        project(onto: 0..<p, total: &total)
        let full = blockNorms()
        if (0..<block).contains(where: { full[$0] < 0.7 * local[$0] }) {
            project(onto: 0..<p, total: &total)
        }
        let r = try orthonormalize(columns: p, norms: norms)
        for i in 0..<p {
            for c in 0..<block { h[i * ld + m + c] = total[i * block + c] }
        }
        for row in 0..<block {
            for c in 0..<block { h[(p + row) * ld + m + c] = r[row * block + c] }
        }
        store(at: p)
        m = p
    }

    /// W -= V_S (V_S^T W) for the basis columns S, adding the coefficients to `total` ([p, block]).
    private func project(onto columns: Range<Int>, total: inout [Double]) {
        let count = columns.count
        let basis = v + columns.lowerBound
        TallProducts.transposedProduct(basis, lda: ld, w, ldb: block, rows: n, p: count, width: block, into: coefficients)
        TallProducts.product(basis, lda: ld, coefficients, rows: n, p: count, width: block, into: w, ldy: block, alpha: -1, beta: 1)
        let offset = columns.lowerBound * block
        for i in 0..<(count * block) { total[offset + i] += Double(coefficients[i]) }
    }

    /// Diagonalises the symmetrised H_m (LAPACK dsyevd) and estimates each Ritz pair's residual.
    func rayleighRitz() throws -> RitzPairs {
        let k = m
        var s = [Double](repeating: 0, count: k * k)
        for i in 0..<k {
            for j in 0..<k { s[i * k + j] = 0.5 * (h[i * ld + j] + h[j * ld + i]) }
        }
        let ascending = try LAPACK.symmetricEigen(&s, dimension: k)
        var y = [Double](repeating: 0, count: k * k)
        for i in 0..<k {
            for j in 0..<k { y[i * k + j] = s[i * k + (k - 1 - j)] }
        }
        var coupling = [Double](repeating: 0, count: block * k)
        for row in 0..<block {
            let b = h + (m + row) * ld
            for i in 0..<k where b[i] != 0 {
                for j in 0..<k { coupling[row * k + j] += b[i] * y[i * k + j] }
            }
        }
        let residuals = (0..<k).map { j in (0..<block).reduce(0.0) { $0 + coupling[$1 * k + j] * coupling[$1 * k + j] }.squareRoot() }
        return RitzPairs(values: ascending.reversed(), coordinates: y, coupling: coupling, residuals: residuals, size: k)
    }

    /// Thick restart: the basis becomes the `keep` leading Ritz vectors followed by the residual block,
    /// and H becomes diag(theta) bordered by the coupling.
    func restart(_ ritz: RitzPairs, keep: Int) {
        let rotated = ritzVectors(ritz, count: keep)
        rotated.withUnsafeBufferPointer { source in
            let source = source.baseAddress!
            let (v, ld, m, block) = (v, ld, m, block)
            Parallel.forEachChunk(n, minimumChunk: 2048) { rows in
                for row in rows {
                    let target = v + row * ld
                    memmove(target + keep, target + m, block * MemoryLayout<Float>.stride)
                    target.update(from: source + row * keep, count: keep)
                }
            }
        }
        h.update(repeating: 0, count: ld * ld)
        for i in 0..<keep {
            h[i * ld + i] = ritz.values[i]
            for row in 0..<block {
                h[(keep + row) * ld + i] = ritz.coupling[row * ritz.size + i]
                h[i * ld + keep + row] = ritz.coupling[row * ritz.size + i]
            }
        }
        m = keep
    }

    /// V_m Y[:, 0..<count] as a row-major [n, count] matrix.
    func ritzVectors(_ ritz: RitzPairs, count: Int) -> [Float] {
        let k = ritz.size
        var y = [Float](repeating: 0, count: k * count)
        for i in 0..<k {
            for j in 0..<count { y[i * count + j] = Float(ritz.coordinates[i * k + j]) }
        }
        var result = [Float](repeating: 0, count: n * count)
        y.withUnsafeBufferPointer { y in
            result.withUnsafeMutableBufferPointer { out in
                TallProducts.product(v, lda: ld, y.baseAddress!, rows: n, p: k, width: count, into: out.baseAddress!, ldy: count)
            }
        }
        return result
    }

    // MARK: Block orthonormalisation

    /// QR of the block W (already orthogonal to V[:, 0..<p]) by Householder (LAPACK sgeqrf + sorgqr),
    /// stable whatever W's conditioning. Returns R (row-major [block, block]); W becomes Q. `x` is free
    /// here and keeps W for the rare rank-deficient case.
    private func orthonormalize(columns p: Int, norms: [Double]) throws -> [Double] {
        x.update(from: w, count: n * block)
        var tau = [Float](repeating: 0, count: block)
        try LAPACK.householderQR(w, rows: n, columns: block, tau: &tau)
        var r = [Double](repeating: 0, count: block * block)
        for i in 0..<block {
            for j in i..<block { r[i * block + j] = Double(w[i * block + j]) }
        }
        if (0..<block).allSatisfy({ abs(r[$0 * block + $0]) > 1e-4 * norms[$0] }) {
            try LAPACK.formQ(w, rows: n, columns: block, tau: &tau)
            return r
        }
        w.update(from: x, count: n * block)
        return orthonormalizeByColumns(columns: p, norms: norms)
    }

    /// Classical Gram-Schmidt inside the block W (already orthogonal to V[:, 0..<p]), each column twice.
    /// A column that lost all but 1e-4 of its norm `norms[c]` to the projections carries no new
    /// direction (an invariant subspace was reached, e.g. a graph component): it gets coupling 0 and is
    /// replaced by a random vector orthogonalised against everything, so the basis keeps growing.
    /// Returns R (row-major [block, block]) with W_before = Q R in the block's own coordinates.
    private func orthonormalizeByColumns(columns p: Int, norms: [Double]) -> [Double] {
        var r = [Double](repeating: 0, count: block * block)
        for c in 0..<block {
            for _ in 0..<2 where c > 0 {
                let dots = columnDots(c)
                subtract(dots, from: c)
                for i in 0..<c { r[i * block + c] += dots[i] }
            }
            let norm = columnDots(c, withItself: true)[0].squareRoot()
            if norm > 1e-4 * norms[c], norm.isFinite {
                r[c * block + c] = norm
                scale(c, by: 1 / norm)
                continue
            }
            for row in 0..<n { w[row * block + c] = random.nextNormal() }
            for _ in 0..<2 {
                if p > 0 {
                    let dots = UnsafeMutablePointer<Float>.allocate(capacity: p)
                    defer { dots.deallocate() }
                    cblas_sgemv(CblasRowMajor, CblasTrans, Int32(n), Int32(p), 1, v, Int32(ld), w + c, Int32(block), 0, dots, 1)
                    cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(n), Int32(p), -1, v, Int32(ld), dots, 1, 1, w + c, Int32(block))
                }
                if c > 0 { subtract(columnDots(c), from: c) }
            }
            scale(c, by: 1 / columnDots(c, withItself: true)[0].squareRoot())
        }
        return r
    }

    /// Column norms of W, the yardstick for cancellation and rank deficiency.
    private func blockNorms() -> [Double] {
        ColumnReduction.squaredNorms(w, rows: n, width: block).map { $0.squareRoot() }
    }

    /// Inner products of W's column c with columns 0..<c (or with itself).
    private func columnDots(_ c: Int, withItself: Bool = false) -> [Double] {
        let (w, block) = (w, block)
        let first = withItself ? c : 0
        return ColumnReduction.sums(rows: n, width: withItself ? 1 : c) { row, i in
            Double(w[row * block + first + i]) * Double(w[row * block + c])
        }
    }

    private func subtract(_ dots: [Double], from c: Int) {
        let (w, block) = (w, block)
        let factors = dots.map(Float.init)
        Parallel.forEachChunk(n, minimumChunk: 4096) { rows in
            for row in rows {
                let line = w + row * block
                var sum: Float = 0
                for i in 0..<factors.count { sum += factors[i] * line[i] }
                line[c] -= sum
            }
        }
    }

    private func scale(_ c: Int, by factor: Double) {
        let f = Float(factor)
        for row in 0..<n { w[row * block + c] *= f }
    }

    /// Writes W into basis columns p..<p+block.
    private func store(at p: Int) {
        let (v, w, ld, block) = (v, w, ld, block)
        Parallel.forEachChunk(n, minimumChunk: 4096) { rows in
            for row in rows { (v + row * ld + p).update(from: w + row * block, count: block) }
        }
    }

    private func copyColumns(from source: UnsafeMutablePointer<Float>, ld: Int, offset: Int, to target: UnsafeMutablePointer<Float>) {
        let block = block
        Parallel.forEachChunk(n, minimumChunk: 4096) { rows in
            for row in rows { (target + row * block).update(from: source + row * ld + offset, count: block) }
        }
    }
}
