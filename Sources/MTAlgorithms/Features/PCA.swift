import MTCore

/// Principal component analysis with whitening, fitted on scaled pixels and stored in the features file
/// so that other data (the test set) can be projected identically.
///
/// Fitting forms the covariance Xc^T Xc / (N-1) by fixed row chunks (`BLAS.tallTransposedProduct`), then
/// solves the P x P symmetric eigenproblem in double precision with LAPACK's dsyevd, all with OpenBLAS on
/// one thread: OpenBLAS splits a threaded sgemm differently per thread count, and the fitted axes and
/// the features must not depend on `--threads`. Projection is x -> ((x - mean) V^T) * scale,
/// where V holds the top D axes by decreasing variance and scale = 1/sqrt(variance + eps) whitens them
/// (1 without whitening); eps = 1e-5 times the largest variance keeps near-empty axes from blowing up.
extension PCAProjection {
    /// Fits on `data` [rows, P]; the rows are centred in place (the caller's copy is consumed).
    public static func fit(_ data: inout [Float], rows: Int, dimension: Int, components count: Int, whiten: Bool) throws -> PCAProjection {
        try BLAS.singleThreaded { try fitSingleThreadedBLAS(&data, rows: rows, dimension: dimension, components: count, whiten: whiten) }
    }

    private static func fitSingleThreadedBLAS(_ data: inout [Float], rows: Int, dimension: Int, components count: Int,
                                              whiten: Bool) throws -> PCAProjection {
        guard count >= 1, count <= dimension, count < rows else {
            throw MTError.usage("pca:\(count) needs 1 <= D <= \(min(dimension, rows - 1)) (input has \(rows) samples of \(dimension) values)")
        }
        var mean = [Float](repeating: 0, count: dimension)
        data.withUnsafeBufferPointer { x in
            var sums = [Double](repeating: 0, count: dimension)
            for row in 0..<rows {
                let start = x.baseAddress! + row * dimension
                for j in 0..<dimension { sums[j] += Double(start[j]) }
            }
            for j in 0..<dimension { mean[j] = Float(sums[j] / Double(rows)) }
        }
        center(&data, rows: rows, mean: mean)
        var covariance = [Float](repeating: 0, count: dimension * dimension)
        data.withUnsafeBufferPointer { x in
            covariance.withUnsafeMutableBufferPointer { c in
                BLAS.tallTransposedProduct(x.baseAddress!, lda: dimension, x.baseAddress!, ldb: dimension, rows: rows,
                                           p: dimension, width: dimension, into: c.baseAddress!)
            }
        }
        let norm = 1 / Float(rows - 1)
        for i in covariance.indices { covariance[i] *= norm }
        var matrix = covariance.map(Double.init)
        let eigenvalues = try LAPACK.symmetricEigen(&matrix, dimension: dimension)
        // dsyevd returns ascending eigenvalues with eigenvectors in columns.
        let largest = max(eigenvalues[dimension - 1], 0)
        var components = [Float](repeating: 0, count: count * dimension)
        var scale = [Float](repeating: 1, count: count)
        var variances = [Float](repeating: 0, count: count)
        for axis in 0..<count {
            let column = dimension - 1 - axis
            let variance = max(eigenvalues[column], 0)
            variances[axis] = Float(variance)
            if whiten { scale[axis] = Float(1 / (variance + 1e-5 * largest).squareRoot()) }
            for j in 0..<dimension { components[axis * dimension + j] = Float(matrix[j * dimension + column]) }
        }
        return PCAProjection(mean: mean, components: components, scale: scale, variances: variances)
    }

    /// Projects already-centred rows [rows, P] to [rows, D], by fixed row chunks (bits independent of
    /// the thread count).
    public func projectCentered(_ data: [Float], rows: Int) -> [Float] {
        var output = [Float](repeating: 0, count: rows * outputDimension)
        guard rows > 0 else { return output }
        // V^T [P, D]: the chunked product takes its right factor untransposed.
        var axes = [Float](repeating: 0, count: inputDimension * outputDimension)
        for axis in 0..<outputDimension {
            for j in 0..<inputDimension { axes[j * outputDimension + axis] = components[axis * inputDimension + j] }
        }
        let (p, d) = (inputDimension, outputDimension)
        data.withUnsafeBufferPointer { x in
            axes.withUnsafeBufferPointer { v in
                output.withUnsafeMutableBufferPointer { y in
                    BLAS.singleThreaded {
                        BLAS.tallProduct(x.baseAddress!, lda: p, v.baseAddress!, rows: rows, p: p, width: d,
                                         into: y.baseAddress!, ldy: d)
                    }
                }
            }
        }
        for row in 0..<rows {
            for axis in 0..<outputDimension { output[row * outputDimension + axis] *= scale[axis] }
        }
        return output
    }

    /// Projects raw rows [rows, P]: centres them with the fitted mean (consuming `data`), then projects.
    public func project(_ data: inout [Float], rows: Int) -> [Float] {
        Self.center(&data, rows: rows, mean: mean)
        return projectCentered(data, rows: rows)
    }

    private static func center(_ data: inout [Float], rows: Int, mean: [Float]) {
        let dimension = mean.count
        data.withUnsafeMutableBufferPointer { x in
            mean.withUnsafeBufferPointer { m in
                let (base, mu) = (x.baseAddress!, m.baseAddress!)
                Parallel.forEachChunk(rows, minimumChunk: 256) { range in
                    for row in range {
                        let start = base + row * dimension
                        for j in 0..<dimension { start[j] -= mu[j] }
                    }
                }
            }
        }
    }
}
