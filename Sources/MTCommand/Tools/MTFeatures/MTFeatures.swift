import ArgumentParser
import MTAlgorithms
import MTCore
import MTNetwork
import MTStorage

public struct MTFeatures: ParsableCommand {
    public init() {}

    public static let configuration = CommandConfiguration(
        commandName: "mt-features",
        abstract: "Import image data sets and embed them as features.",
        version: mtVersion,
        subcommands: [FeaturesImportCommand.self, FeaturesExtractCommand.self, FeaturesMergeCommand.self])
}

extension ImportFormat: ExpressibleByArgument {}

struct FeaturesImportCommand: ToolCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import MNIST, CIFAR-10/100 or a folder of PNG/JPEG images into a dataset file.",
        discussion: """
        images: PNG and JPEG files of any size and mode (gray, RGB, RGBA, palette; CMYK JPEG refused), \
        found by extension below DIR. Labels from one subfolder per class (default), a CSV of path,label \
        rows (--labels FILE.csv, paths relative to DIR) or none (--labels none: all -1). Each image's path \
        is kept in /paths. --size S resizes as torchvision's Resize(S) + CenterCrop(S) with Pillow's \
        antialiased bilinear filter (or --resize squash: S x S); without it every image must have the same \
        size. Photos are turned upright by their EXIF orientation unless --exif ignore. Decoding uses every \
        core; --memory bounds the rows held at once.
        Examples:
          mt-features import mnist mnist/ --split train -o mnist-train.h5
          mt-features import mnist train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz -o train.h5
          mt-features import cifar10 cifar-10-batches-bin/ --split test -o cifar10-test.h5
          mt-features import images photos/ --size 224 -o photos.h5        (one subfolder per class)
          mt-features import images photos/ --labels labels.csv --size 224 --skip-bad -o photos.h5
          mt-features import images unlabelled/ --labels none --size 96 -o pool.h5
        """)

    @Argument(help: "Source format: mnist, cifar10, cifar100 or images (png is an older name of images).") var format: ImportFormat
    @Argument(help: "The source files, or one directory.") var inputs: [String]
    @Option(help: "With a directory: which split to import (train or test).") var split: String?
    @Option(help: "images: folders (one subfolder per class, the default), none, or a CSV of path,label rows.") var labels: String?
    @Option(parsing: .unconditional, help: "images: output side S (default: keep the size, which must then be the same for all).") var size: Int?
    @Option(help: "images, with --size: crop (shorter side to S, centre S x S; the default) or squash (S x S).") var resize: ResizeMode = .crop
    @Option(help: "images: auto (gray when every image is gray), gray or rgb.") var channels: ChannelsChoice = .auto
    @Option(help: "images: apply (turn photos upright by their EXIF orientation, the default) or ignore.") var exif: ExifChoice = .apply
    @Flag(help: "images: skip files that cannot be read (listed in the output's /skipped) instead of stopping.") var skipBad = false
    @Option(parsing: .unconditional, help: "Import only the first N samples (>= 1).") var limit: Int?
    @Option(help: "Name stored in the file (default: FORMAT-SPLIT).") var name: String?
    @OptionGroup var memory: MemoryOption
    @OptionGroup var output: OutputOption
    @OptionGroup var common: CommonOptions

    enum ResizeMode: String, ExpressibleByArgument, CaseIterable { case crop, squash }
    enum ChannelsChoice: String, ExpressibleByArgument, CaseIterable { case auto, gray, rgb }
    enum ExifChoice: String, ExpressibleByArgument, CaseIterable { case apply, ignore }

    func validate() throws {
        try NumericChecks.check(limit, .atLeast(1), "--limit")
        try NumericChecks.check(size, .atLeast(1), "--size")
        let folderOnly = [("--size", size != nil), ("--skip-bad", skipBad), ("--resize", resize != .crop),
                          ("--channels", channels != .auto), ("--exif", exif != .apply)]
        if format != .images && format != .png, let flag = folderOnly.first(where: \.1) {
            throw ValidationError("\(flag.0) applies to images only")
        }
        if format != .images && format != .png, labels != nil { throw ValidationError("--labels applies to images only") }
    }

    func execute() throws {
        var settings = ImageFolderSettings()
        switch labels {
        case nil, "folders": settings.labels = .folders
        case "none": settings.labels = .none
        case let csv?: settings.labels = .csv(csv)
        }
        if let size { settings.resize = resize == .crop ? .shorterSideCrop(size) : .squash(size) }
        settings.channels = [.auto: .automatic, .gray: .gray, .rgb: .rgb][channels]!
        settings.appliesOrientation = exif == .apply
        settings.skipsBadFiles = skipBad
        settings.memoryBudget = memory.memory.bytes
        try DatasetImport.run(format, inputs: inputs, split: split, images: settings, limit: limit, name: name,
                              output: output.output)
    }
}

struct FeaturesExtractCommand: ToolCommand {
    static let configuration = CommandConfiguration(
        commandName: "extract",
        abstract: "Embed every image of a dataset file and write a features file.",
        discussion: """
        Models: pixels (scaled, flattened pixels), pca:D (PCA fitted on this data, D components, whitened),
        pca:FILE.h5 (project with the PCA stored in an earlier PCA features file), CKPT.h5 (a network
        checkpoint from mt-train or torch2h5.py: a metric network's output, a classifier's penultimate layer).
        Examples:
          mt-features extract mnist-train.h5 --model pixels -o train-pixels.h5
          mt-features extract mnist-train.h5 --model pca:128 -o train-pca.h5
          mt-features extract mnist-test.h5 --model pca:train-pca.h5 -o test-pca.h5
          mt-features extract mnist-train.h5 --model metric.h5 -o train-metric.h5
          mt-features extract photos.h5 --model resnet50.h5 --layer penultimate --norm imagenet -o photos-r50.h5
        A network normalises the pixels with the mean and std stored in its checkpoint; --norm PRESET
        (imagenet, cifar10, mnist) or --norm-mean/--norm-std replace them. A network streams the images in
        blocks within --memory; pixels and PCA read the whole data set.
        """)

    @Argument(help: "Dataset file (from mt-features import).") var dataset: String
    @Option(help: "pixels, pca:D (D >= 1), pca:FILE.h5 or CKPT.h5.") var model: String = "pixels"
    @Option(help: "Network layer to embed with: auto (output of a metric network, else penultimate), penultimate or output.") var layer: FeatureLayer = .auto
    @Option(help: "Network input statistics: \(InputNormalization.allCases.map(\.rawValue).joined(separator: ", ")) (default: the checkpoint's).") var norm: InputNormalization?
    @Option(help: "Per-channel input mean, comma-separated (with --norm-std; replaces --norm).") var normMean: String?
    @Option(help: "Per-channel input std, comma-separated (with --norm-mean).") var normStd: String?
    @Flag(inversion: .prefixedNo, help: "Whiten PCA components (unit variance per axis).") var whiten = true
    @OptionGroup var memory: MemoryOption
    @OptionGroup var shard: ShardOption
    @Flag(inversion: .prefixedNo, help: "L2-normalise every feature row (inner product = cosine).") var normalize = true
    @OptionGroup var output: OutputOption
    @OptionGroup var common: CommonOptions

    func validate() throws {
        do {
            let parsed = try FeatureModel.parse(model)
            if case .pcaFit(let count) = parsed { try NumericChecks.check(count, .atLeast(1), "--model pca:D: D") }
            let isNetwork = if case .network = parsed { true } else { false }
            if !isNetwork, norm != nil || normMean != nil || normStd != nil {
                throw ValidationError("--norm, --norm-mean and --norm-std apply to a network --model")
            }
            if (normMean == nil) != (normStd == nil) { throw ValidationError("give --norm-mean and --norm-std together") }
            if !isNetwork, shard.shard != nil { throw ValidationError("--shard applies to a network --model (pixels and PCA are not sharded)") }
            if normMean != nil, norm != nil { throw ValidationError("give --norm or --norm-mean/--norm-std, not both") }
            _ = try inputNormalization()
        } catch let error as MTError {
            throw ValidationError(error.message)
        }
    }

    /// The statistics that replace the checkpoint's, if any were given.
    func inputNormalization() throws -> (mean: [Float], std: [Float])? {
        if let norm { return (norm.mean, norm.std) }
        guard let normMean, let normStd else { return nil }
        func values(_ text: String, _ flag: String, positive: Bool) throws -> [Float] {
            let parsed = text.split(separator: ",").map { Float($0.trimmingCharacters(in: .whitespaces)) }
            guard !parsed.isEmpty, parsed.allSatisfy({ $0 != nil && $0!.isFinite && (!positive || $0! > 0) }) else {
                throw MTError.usage("\(flag): expected comma-separated \(positive ? "positive " : "")numbers, found '\(text)'")
            }
            return parsed.map { $0! }
        }
        return (try values(normMean, "--norm-mean", positive: false), try values(normStd, "--norm-std", positive: true))
    }

    func execute() throws {
        try FeatureExtraction.run(dataset: dataset, model: try FeatureModel.parse(model), whiten: whiten,
                                  normalize: normalize, output: output.output, layer: layer,
                                  inputNormalization: try inputNormalization(), memoryBudget: memory.memory.bytes, shard: shard.shard)
    }
}

struct FeaturesMergeCommand: ToolCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Assemble the shards of one mt-features extract --shard run into the whole features file.",
        discussion: """
        Every shard 0..n-1 exactly once, all of the same run (data set, checkpoint, layer, as each shard
        records); the result is row for row the file the unsharded run writes.
        Example:
          for i in 0 1 2; do mt-features extract train.h5 --model metric.h5 --shard $i/3 -o f-$i.h5; done
          mt-features merge f-0.h5 f-1.h5 f-2.h5 -o features.h5
        """)

    @OptionGroup var files: ShardFiles
    @OptionGroup var output: OutputOption
    @OptionGroup var common: CommonOptions

    func execute() throws {
        try FeatureExtraction.merge(files.shards, output: output.output)
    }
}

