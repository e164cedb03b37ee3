import ArgumentParser

/// Which activations inference returns.
public enum FeatureLayer: String, CaseIterable, Sendable, ExpressibleByArgument {
    /// `output` for a metric network (one whose output is L2-normalised, as `mt-train metric` makes),
    /// `penultimate` for a classifier.
    case auto
    /// The penultimate layer (after global pooling), the usual transfer embedding.
    case penultimate
    /// The network's output (logits, or the L2-normalised embedding of a metric network).
    case output

    /// The concrete layer for `network`.
    public func resolved(for network: Network) -> FeatureLayer {
        self == .auto ? (network.normalizesOutput ? .output : .penultimate) : self
    }
}

/// Batched inference: the same path serves `mt-features extract --model`, `mt-eval model` and the
/// per-epoch test accuracy of training.
public enum NetworkFeatures {
    /// Runs `network` in evaluation mode over every image of `dataset`, `batchSize` at a time;
    /// returns [N, D] row-major.
    public static func run(_ network: Network, on dataset: ImageDataset, layer: FeatureLayer, batchSize: Int = 512,
                           progressLabel: String? = nil) -> (values: [Float], dimension: Int) {
        let layer = layer.resolved(for: network)
        let batcher = ImageBatcher(dataset: dataset, mean: network.inputMean, std: network.inputStd, augmentation: .none)
        let dimension = layer == .output ? network.outputDimension : network.architecture.embeddingDimension
        var values = [Float](repeating: 0, count: dataset.count * dimension)
        let progress = progressLabel.map { Progress($0, total: dataset.count, unit: "img") }
        for start in stride(from: 0, to: dataset.count, by: batchSize) {
            let indices = Array(start..<min(start + batchSize, dataset.count))
            let input = batcher.batch(indices)
            let out = layer == .output ? network.forward(input, training: false) : network.embed(input)
            values.withUnsafeMutableBufferPointer { v in
                (v.baseAddress! + start * dimension).update(from: out.data, count: out.count)
            }
            progress?.advance(by: indices.count)
        }
        progress?.finish()
        return (values, dimension)
    }

    /// Embeds every image of the data set file with the checkpoint's network; rows L2-normalised when
    /// `normalize` (cosine similarity = inner product, as the kNN and cut tools expect).
    public static func extract(checkpoint: String, dataset: String, layer: FeatureLayer = .auto,
                               normalize: Bool = true, batchSize: Int = 512) throws -> Features {
        try extract(checkpoint: checkpoint, images: ImageDataset.read(dataset), source: dataset, layer: layer,
                    normalize: normalize, batchSize: batchSize)
    }

    /// `extract` on a data set already in memory (`source` names its file in errors).
    public static func extract(checkpoint: String, images: ImageDataset, source: String, layer: FeatureLayer = .auto,
                               normalize: Bool = true, batchSize: Int = 512) throws -> Features {
        let network = try Checkpoint.read(checkpoint).network
        guard images.channels == network.inputChannels else {
            throw MTError.badInput(source, "/images", "expected \(network.inputChannels) channels for \(checkpoint), found \(images.channels)")
        }
        let layer = layer.resolved(for: network)
        var (values, dimension) = run(network, on: images, layer: layer, batchSize: batchSize, progressLabel: "extract")
        if normalize { RowOps.normalize(&values, rows: images.count, dimension: dimension) }
        return Features(values: values, count: images.count, dimension: dimension, labels: images.labels,
                        model: "\(checkpoint):\(layer.rawValue)", normalized: normalize)
    }
}
