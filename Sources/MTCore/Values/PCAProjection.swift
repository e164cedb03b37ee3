/// A fitted principal component projection: x -> ((x - mean) V^T) * scale, V the top D axes by decreasing
/// variance, scale 1/sqrt(variance + eps) when whitened (1 otherwise). Fitted by `PCAProjection.fit`
/// (MTAlgorithms), stored in the `/pca` group of a features file (MTStorage).
public struct PCAProjection: Sendable {
    public var mean: [Float]
    /// [D, P] principal axes, rows by decreasing variance.
    public var components: [Float]
    public var scale: [Float]
    /// The variance along each kept axis.
    public var variances: [Float]

    public var inputDimension: Int { mean.count }
    public var outputDimension: Int { scale.count }

    public init(mean: [Float], components: [Float], scale: [Float], variances: [Float]) {
        precondition(components.count == scale.count * mean.count && variances.count == scale.count)
        self.mean = mean
        self.components = components
        self.scale = scale
        self.variances = variances
    }
}
