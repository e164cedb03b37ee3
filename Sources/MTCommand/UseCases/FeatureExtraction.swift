import MTAlgorithms
import MTCore
import MTNetwork
import MTStorage

/// What `mt-features extract --model` names: the embedding to compute.
public enum FeatureModel: Equatable, Sendable {
    /// Scaled, flattened pixels.
    case pixels
    /// PCA with D components, fitted on the input data set.
    case pcaFit(components: Int)
    /// The PCA stored in an earlier PCA features file, applied to new data (e.g. the test set).
    case pcaFrom(path: String)
    /// A network checkpoint (from mt-train or torch2h5.py) run over the images.
    case network(checkpoint: String)

    /// Parses `pixels`, `pca:D`, `pca:FILE.h5`, or a checkpoint `CKPT.h5` (also `model:CKPT.h5`).
    public static func parse(_ spec: String) throws -> FeatureModel {
        if spec == "pixels" { return .pixels }
        if spec.hasPrefix("model:"), spec.count > 6 { return .network(checkpoint: String(spec.dropFirst(6))) }
        if spec.hasSuffix(".h5"), !spec.hasPrefix("pca:") { return .network(checkpoint: spec) }
        if spec.hasPrefix("pca:") {
            let argument = String(spec.dropFirst(4))
            if let count = Int(argument) { return .pcaFit(components: count) }
            if !argument.isEmpty { return .pcaFrom(path: argument) }
        }
        throw MTError.usage("--model: expected pixels, pca:D, pca:FILE.h5 or CHECKPOINT.h5, got '\(spec)'")
    }
}

/// `mt-features extract`: embeds every image of a data set file and writes a features file.
public enum FeatureExtraction {
    /// - Parameter layer: for a network, which activations to return (penultimate embedding by default).
    /// - Parameter inputNormalization: for a network, per-channel mean and std replacing the checkpoint's
    ///   (e.g. ImageNet's for torchvision weights converted without them).
    public static func run(dataset datasetPath: String, model: FeatureModel, whiten: Bool, normalize: Bool, output: String,
                           layer: FeatureLayer = .auto, inputNormalization: (mean: [Float], std: [Float])? = nil) throws {
        let dataset = try ImageDataset.read(datasetPath)
        switch model {
        case .pixels:
            try PixelFeatures.extract(dataset, normalize: normalize).write(output, inputs: [datasetPath])
        case .pcaFit(let count):
            var data = PixelFeatures.matrix(dataset)
            let projection = try PCAProjection.fit(&data, rows: dataset.count, dimension: dataset.imageSize,
                                                   components: count, whiten: whiten)
            let features = projected(projection.projectCentered(data, rows: dataset.count), projection,
                                     dataset, normalize: normalize, model: "pca:\(count)")
            try features.write(output, inputs: [datasetPath]) { try projection.write(to: $0) }
        case .pcaFrom(let path):
            let projection = try PCAProjection.read(path)
            guard projection.inputDimension == dataset.imageSize else {
                throw MTError.badInput(path, "/pca/mean", "expected \(dataset.imageSize) values to match \(datasetPath), found \(projection.inputDimension)")
            }
            var data = PixelFeatures.matrix(dataset)
            let features = projected(projection.project(&data, rows: dataset.count), projection, dataset,
                                     normalize: normalize, model: "pca:\(path)")
            try features.write(output, inputs: [datasetPath, path]) { try projection.write(to: $0) }
        case .network(let checkpoint):
            let network = try Checkpoint.loadTrained(checkpoint).network
            if let (mean, std) = inputNormalization {
                guard mean.count == network.inputChannels, std.count == network.inputChannels else {
                    throw MTError.usage("--norm-mean/--norm-std: expected \(network.inputChannels) values each for \(checkpoint), found \(mean.count) and \(std.count)")
                }
                network.inputMean = mean
                network.inputStd = std
            }
            try NetworkFeatures.extract(network, model: checkpoint, images: dataset, source: datasetPath, layer: layer, normalize: normalize)
                .write(output, inputs: [datasetPath, checkpoint])
        }
        Console.note("wrote \(output)")
    }

    private static func projected(_ values: [Float], _ projection: PCAProjection, _ dataset: ImageDataset,
                                  normalize: Bool, model: String) -> Features {
        var values = values
        if normalize { RowOps.normalize(&values, rows: dataset.count, dimension: projection.outputDimension) }
        return Features(values: values, count: dataset.count, dimension: projection.outputDimension,
                        labels: dataset.labels, model: model, normalized: normalize)
    }
}
