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

/// Per-channel input statistics that published weights expect: x = (pixel / 255 - mean) / std.
public enum InputNormalization: String, CaseIterable, Sendable {
    /// torchvision's ImageNet models (and most pretrained backbones).
    case imagenet
    /// The reference's CIFAR-10 values.
    case cifar10
    /// MNIST's.
    case mnist

    public var mean: [Float] {
        switch self {
        case .imagenet: [0.485, 0.456, 0.406]
        case .cifar10: [0.4914, 0.4822, 0.4465]
        case .mnist: [0.1307]
        }
    }

    public var std: [Float] {
        switch self {
        case .imagenet: [0.229, 0.224, 0.225]
        case .cifar10: [0.2023, 0.1994, 0.2010]
        case .mnist: [0.3081]
        }
    }
}

/// Batched inference: the same path serves `mt-features extract --model`, `mt-eval model` and the
/// per-epoch test accuracy of training.
public enum NetworkFeatures {
    /// Images per inference batch for `height` x `width` inputs: 512, fewer for large images so that one
    /// activation tensor stays near 64 MB (a ResNet's widest maps hold about 16 H W floats per image:
    /// 224 x 224 gives batches of 20). The batch size does not change the results (evaluation mode).
    public static func batchSize(height: Int, width: Int) -> Int {
        max(1, min(512, (1 << 24) / max(1, 16 * height * width)))
    }

    /// Runs `network` in evaluation mode over every image of `dataset`, `batchSize` at a time (nil:
    /// `batchSize(height:width:)`); returns [N, D] row-major.
    public static func run(_ network: Network, on dataset: ImageDataset, layer: FeatureLayer, batchSize: Int? = nil,
                           progressLabel: String? = nil) -> (values: [Float], dimension: Int) {
        let layer = layer.resolved(for: network)
        let batchSize = batchSize ?? Self.batchSize(height: dataset.height, width: dataset.width)
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
}
