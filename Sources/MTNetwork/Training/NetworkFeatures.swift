import MTAlgorithms
import MTCore

/// Which activations inference returns.
public enum FeatureLayer: String, CaseIterable, Sendable {
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
        let progress = progressLabel.map { ProgressMeter($0, total: dataset.count, unit: "img") }
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

    /// Embeds every image with `network` at `layer`; rows L2-normalised when `normalize` (cosine
    /// similarity = inner product, as the kNN and cut tools expect). `model` names the network in the
    /// features' `model` attribute; `source` names the images in errors.
    public static func extract(_ network: Network, model: String, images: ImageDataset, source: String,
                               layer: FeatureLayer = .auto, normalize: Bool = true, batchSize: Int = 512) throws -> Features {
        guard images.channels == network.inputChannels else {
            throw MTError.badInput(source, "/images", "expected \(network.inputChannels) channels for \(model), found \(images.channels)")
        }
        let layer = layer.resolved(for: network)
        var (values, dimension) = run(network, on: images, layer: layer, batchSize: batchSize, progressLabel: "extract")
        if normalize { RowOps.normalize(&values, rows: images.count, dimension: dimension) }
        return Features(values: values, count: images.count, dimension: dimension, labels: images.labels,
                        model: "\(model):\(layer.rawValue)", normalized: normalize)
    }
}
