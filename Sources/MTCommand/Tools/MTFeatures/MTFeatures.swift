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
        subcommands: [FeaturesImportCommand.self, FeaturesExtractCommand.self])
}

extension ImportFormat: ExpressibleByArgument {}

struct FeaturesImportCommand: ToolCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import MNIST, CIFAR-10/100 or a folder of PNG images into a dataset file.",
        discussion: """
        Examples:
          mt-features import mnist mnist/ --split train -o mnist-train.h5
          mt-features import mnist train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz -o train.h5
          mt-features import cifar10 cifar-10-batches-bin/ --split test -o cifar10-test.h5
          mt-features import png photos/ -o photos.h5          (one subfolder per class)
          mt-features import png photos/ --labels labels.csv -o photos.h5
        """)

    @Argument(help: "Source format: mnist, cifar10, cifar100 or png.") var format: ImportFormat
    @Argument(help: "The source files, or one directory.") var inputs: [String]
    @Option(help: "With a directory: which split to import (train or test).") var split: String?
    @Option(help: "png: CSV of file,label lines for a flat folder.") var labels: String?
    @Option(parsing: .unconditional, help: "Import only the first N samples (>= 1).") var limit: Int?
    @Option(help: "Name stored in the file (default: FORMAT-SPLIT).") var name: String?
    @OptionGroup var output: OutputOption
    @OptionGroup var common: CommonOptions

    func validate() throws {
        try NumericChecks.check(limit, .atLeast(1), "--limit")
    }

    func execute() throws {
        try DatasetImport.run(format, inputs: inputs, split: split, labelsCSV: labels, limit: limit, name: name,
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
        """)

    @Argument(help: "Dataset file (from mt-features import).") var dataset: String
    @Option(help: "pixels, pca:D (D >= 1), pca:FILE.h5 or CKPT.h5.") var model: String = "pixels"
    @Option(help: "Network layer to embed with: auto (output of a metric network, else penultimate), penultimate or output.") var layer: FeatureLayer = .auto
    @Flag(inversion: .prefixedNo, help: "Whiten PCA components (unit variance per axis).") var whiten = true
    @Flag(inversion: .prefixedNo, help: "L2-normalise every feature row (inner product = cosine).") var normalize = true
    @OptionGroup var output: OutputOption
    @OptionGroup var common: CommonOptions

    func validate() throws {
        do {
            if case .pcaFit(let count) = try FeatureModel.parse(model) { try NumericChecks.check(count, .atLeast(1), "--model pca:D: D") }
        } catch let error as MTError {
            throw ValidationError(error.message)
        }
    }

    func execute() throws {
        try FeatureExtraction.run(dataset: dataset, model: try FeatureModel.parse(model), whiten: whiten,
                                  normalize: normalize, output: output.output, layer: layer)
    }
}

