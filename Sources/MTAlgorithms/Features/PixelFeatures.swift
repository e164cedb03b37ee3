import MTCore

/// Raw-pixel embeddings: every image flattened (H*W*C values), scaled to [0,1], optionally L2-normalised.
/// The baseline metric of the paper's tables and the input of PCA.
public enum PixelFeatures {
    /// Scaled pixels of every image, [N, H*W*C] row-major.
    public static func matrix(_ dataset: ImageDataset) -> [Float] {
        var values = [Float](repeating: 0, count: dataset.images.count)
        values.withUnsafeMutableBufferPointer { out in
            dataset.images.withUnsafeBufferPointer { pixels in
                let (o, p) = (out.baseAddress!, pixels.baseAddress!)
                Parallel.forEachChunk(pixels.count, minimumChunk: 1 << 16) { range in
                    for i in range { o[i] = Float(p[i]) * (1 / 255) }
                }
            }
        }
        return values
    }

    public static func extract(_ dataset: ImageDataset, normalize: Bool) -> Features {
        var values = matrix(dataset)
        if normalize { RowOps.normalize(&values, rows: dataset.count, dimension: dataset.imageSize) }
        return Features(values: values, count: dataset.count, dimension: dataset.imageSize, labels: dataset.labels,
                        model: "pixels", normalized: normalize)
    }
}
