import MTCore


/// The `/pca` group of a PCA features file: the fitted projection, so that other data (the test set)
/// is projected identically.
extension PCAProjection {
    public func write(to file: H5File) throws {
        try file.write("/pca/mean", mean)
        try file.write("/pca/components", components, shape: [outputDimension, inputDimension])
        try file.write("/pca/scale", scale)
        try file.write("/pca/variances", variances)
    }

    /// Reads the projection stored in a PCA features file.
    public static func read(_ path: String) throws -> PCAProjection {
        let reader = try ArtifactReader(path, expecting: .features)
        guard reader.file.exists("/pca") else {
            throw MTError.badInput(path, "/pca", "missing group: not a PCA features file (make one with --model pca:D)")
        }
        let mean = try reader.readFinite("/pca/mean", shape: ["P"])
        let components = try reader.readFinite("/pca/components", shape: ["D", "P"])
        let scale = try reader.readFinite("/pca/scale", shape: ["D"])
        let variances = try reader.readFiniteIfPresent("/pca/variances", shape: ["D"])
        return PCAProjection(mean: mean.values, components: components.values, scale: scale.values,
                             variances: variances?.values ?? [Float](repeating: 0, count: scale.values.count))
    }
}
