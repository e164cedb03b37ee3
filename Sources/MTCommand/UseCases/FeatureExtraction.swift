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
                           memoryBudget: Int = 1 << 30, shard: Shard? = nil) throws {
        switch model {
        case .network(let checkpoint):
            try embed(datasetPath, checkpoint: checkpoint, layer: layer, normalize: normalize, inputNormalization: inputNormalization,
                      memoryBudget: memoryBudget, shard: shard, output: output)
        case .pixels:
            let dataset = try ImageDataset.read(datasetPath)
            try PixelFeatures.extract(dataset, normalize: normalize).write(output, inputs: [datasetPath])
        case .pcaFit(let count):
            let dataset = try ImageDataset.read(datasetPath)
            var data = PixelFeatures.matrix(dataset)
            let projection = try PCAProjection.fit(&data, rows: dataset.count, dimension: dataset.imageSize,
                                                   components: count, whiten: whiten)
            let features = projected(projection.projectCentered(data, rows: dataset.count), projection,
                                     dataset, normalize: normalize, model: "pca:\(count)")
            try features.write(output, inputs: [datasetPath]) { try projection.write(to: $0) }
        case .pcaFrom(let path):
            let dataset = try ImageDataset.read(datasetPath)
            let projection = try PCAProjection.read(path)
            guard projection.inputDimension == dataset.imageSize else {
                throw MTError.badInput(path, "/pca/mean", "expected \(dataset.imageSize) values to match \(datasetPath), found \(projection.inputDimension)")
            }
            var data = PixelFeatures.matrix(dataset)
            let features = projected(projection.project(&data, rows: dataset.count), projection, dataset,
                                     normalize: normalize, model: "pca:\(path)")
            try features.write(output, inputs: [datasetPath, path]) { try projection.write(to: $0) }
        }
        Console.note("wrote \(output)")
    }

    /// A network's features of every image, streamed: blocks of whole inference batches are read, embedded
    /// and written in turn, so memory is one block (about `memoryBudget`) whatever N is. The values are
    /// those of embedding the whole set at once (evaluation mode treats every image alone).
    static func embed(_ datasetPath: String, checkpoint: String, layer: FeatureLayer, normalize: Bool,
                      inputNormalization: (mean: [Float], std: [Float])?, memoryBudget: Int, shard: Shard?, output: String) throws {
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
        let part = shard.map { RowShard.rows(index: $0.index, count: $0.count, of: rows.count) } ?? 0..<rows.count
        let attributes = shard.map { RowShard(index: $0.index, count: $0.count, rowOffset: part.lowerBound, totalRows: rows.count,
                                              run: "mt-features extract \(datasetPath) --model \(checkpoint) --layer \(layer.rawValue)\(normalize ? "" : " --no-normalize")\(inputNormalization.map { " --norm-mean \($0.mean) --norm-std \($0.std)" } ?? "")").attributes } ?? [:]
        let progress = ProgressMeter("extract", total: part.count, unit: "img")
        try Features.write(output, inputs: [datasetPath, checkpoint], count: part.count, dimension: dimension, labels: Array(rows.labels[part]),
                           model: "\(checkpoint):\(layer.rawValue)", normalized: normalize, blockRows: blockRows, attributes: attributes) { range in
            // Inference batches on the whole data set's grid (multiples of `batch` from row 0), whatever the
            // shard: a sample's last bits may depend on its place in a batch's matrix products, and on this
            // grid every row is computed in the batch the unsharded run puts it in.
            let wanted = (range.lowerBound + part.lowerBound)..<(range.upperBound + part.lowerBound)
            let aligned = (wanted.lowerBound / batch * batch)..<min(rows.count, (wanted.upperBound + batch - 1) / batch * batch)
            let (computed, _) = NetworkFeatures.run(network, on: try rows.block(aligned), layer: layer, batchSize: batch)
            let skip = (wanted.lowerBound - aligned.lowerBound) * dimension
            var values = Array(computed[skip..<(skip + wanted.count * dimension)])
            if normalize { RowOps.normalize(&values, rows: wanted.count, dimension: dimension) }
            progress.advance(by: wanted.count)
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

extension FeatureExtraction {
    /// `mt-features merge`: the shards of one `mt-features extract --shard i/n` run, every i once, as the
    /// whole features file (row for row what the unsharded run writes).
    public static func merge(_ paths: [String], output: String) throws {
        let shards = try RowShard.complete(try paths.map { path in
            guard let shard = try RowShard.read(path, kind: .features) else {
                throw MTError.badInput(path, nil, "expected a features shard (mt-features extract --shard i/n), found a whole features file")
            }
            return (path, shard)
        })
        let parts = try shards.map { try Features.read($0.path) }
        for (index, (path, shard)) in shards.enumerated()
        where parts[index].count != shard.rows.count || parts[index].dimension != parts[0].dimension {
            throw MTError.badInput(path, "/features", "expected \(shard.rows.count) rows of dimension \(parts[0].dimension), found \(parts[index].count) of \(parts[index].dimension)")
        }
        // The merged rows are held whole (N x D floats: 512 MB for a million 128-wide rows).
        try Features(values: parts.flatMap(\.values), count: shards[0].shard.totalRows, dimension: parts[0].dimension,
                     labels: parts.flatMap(\.labels), model: parts[0].model, normalized: parts[0].normalized)
            .write(output, inputs: paths)
        Console.note("wrote \(output): \(shards[0].shard.totalRows) rows from \(paths.count) shards")
    }
}
