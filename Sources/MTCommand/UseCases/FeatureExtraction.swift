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
    /// - Parameter memoryBudget: a network streams the images in blocks of about this many bytes of
    ///   images and activations (pixels and PCA read the whole data set).
    public static func run(dataset datasetPath: String, model: FeatureModel, whiten: Bool, normalize: Bool, output: String,
                           layer: FeatureLayer = .auto, inputNormalization: (mean: [Float], std: [Float])? = nil,
                           memoryBudget: Int = 1 << 30) throws {
        if case .network(let checkpoint) = model {
            try embed(datasetPath, checkpoint: checkpoint, layer: layer, normalize: normalize, inputNormalization: inputNormalization,
                      memoryBudget: memoryBudget, output: output)
            Console.note("wrote \(output)")
            return
        }
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
        case .network:
            preconditionFailure("networks stream (embed)")
        }
        Console.note("wrote \(output)")
    }

    /// A network's features of every image, streamed: blocks of whole inference batches are read, embedded
    /// and written in turn, so memory is one block (about `memoryBudget`) whatever N is. The values are
    /// those of embedding the whole set at once (evaluation mode treats every image alone).
    static func embed(_ datasetPath: String, checkpoint: String, layer: FeatureLayer, normalize: Bool,
                      inputNormalization: (mean: [Float], std: [Float])?, memoryBudget: Int, output: String) throws {
        let network = try Checkpoint.loadTrained(checkpoint).network
        if let (mean, std) = inputNormalization {
            guard mean.count == network.inputChannels, std.count == network.inputChannels else {
                throw MTError.usage("--norm-mean/--norm-std: expected \(network.inputChannels) values each for \(checkpoint), found \(mean.count) and \(std.count)")
            }
            network.inputMean = mean
            network.inputStd = std
        }
        let rows = try DatasetRows(datasetPath)
        guard rows.channels == network.inputChannels else {
            throw MTError.badInput(datasetPath, "/images", "expected \(network.inputChannels) channels for \(checkpoint), found \(rows.channels)")
        }
        let layer = layer.resolved(for: network)
        let dimension = layer == .output ? network.outputDimension : network.architecture.embeddingDimension
        let batch = NetworkFeatures.batchSize(height: rows.height, width: rows.width)
        // Per image: its pixels, as floats, and about 16 H W floats of activations of one batch.
        let perImage = rows.height * rows.width * rows.channels * 5 + dimension * 4
        let blockRows = max(batch, (memoryBudget / 2 / max(1, perImage)) / batch * batch)
        let progress = ProgressMeter("extract", total: rows.count, unit: "img")
        try Features.write(output, inputs: [datasetPath, checkpoint], count: rows.count, dimension: dimension, labels: rows.labels,
                           model: "\(checkpoint):\(layer.rawValue)", normalized: normalize, blockRows: blockRows) { range in
            var (values, _) = NetworkFeatures.run(network, on: try rows.block(range), layer: layer, batchSize: batch)
            if normalize { RowOps.normalize(&values, rows: range.count, dimension: dimension) }
            progress.advance(by: range.count)
            return values
        }
        progress.finish()
    }

    private static func projected(_ values: [Float], _ projection: PCAProjection, _ dataset: ImageDataset,
                                  normalize: Bool, model: String) -> Features {
        var values = values
        if normalize { RowOps.normalize(&values, rows: dataset.count, dimension: projection.outputDimension) }
        return Features(values: values, count: dataset.count, dimension: projection.outputDimension,
                        labels: dataset.labels, model: model, normalized: normalize)
    }
}
