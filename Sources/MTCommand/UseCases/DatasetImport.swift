import MTAlgorithms
import MTCore
import MTNetwork
import MTStorage

/// The source formats `mt-features import` understands (`png` is the older name of `images`).
public enum ImportFormat: String, CaseIterable, Sendable {
    case mnist, cifar10, cifar100, images, png
}

/// How `mt-features import images` reads a folder: the importer's settings that come from flags.
public struct ImageFolderSettings: Sendable {
    public var labels: ImageFolderImporter.Labels = .folders
    public var resize: ImageFolderImporter.Resize = .none
    public var channels: ImageFolderImporter.Channels = .automatic
    public var appliesOrientation = true
    public var skipsBadFiles = false
    public var memoryBudget = MemoryOption.defaultBudget.bytes

    public init() {}
}

/// `mt-features import`: reads a data set in a source format and writes a dataset file.
public enum DatasetImport {
    /// - Parameters:
    ///   - inputs: MNIST: the images and labels files, or one directory with `split`; CIFAR: batch files,
    ///     or one directory with `split`; PNG: one directory.
    public static func run(_ format: ImportFormat, inputs: [String], split: String?, images: ImageFolderSettings = ImageFolderSettings(),
                           limit: Int?, name: String?, output: String) throws {
        guard !inputs.isEmpty else { throw MTError.usage("give the files or directory to import") }
        if let limit, limit < 1 { throw MTError.usage("--limit must be at least 1") }
        let directory = inputs.count == 1 && directoryExists(inputs[0]) ? inputs[0] : nil
        let label = name ?? [format.rawValue, split].compactMap { $0 }.joined(separator: "-")
        var sources = inputs
        let dataset: ImageDataset
        switch format {
        case .mnist:
            if let directory {
                let files = try MNISTImporter.standardFiles(directory: directory, split: split ?? "train")
                sources = [files.images, files.labels]
            }
            guard sources.count == 2 else { throw MTError.usage("mnist: give IMAGES LABELS files, or a directory and --split") }
            for path in sources where !fileExists(path) { throw MTError.badInput(path, nil, "no such file") }
            dataset = try MNISTImporter.load(images: sources[0], labels: sources[1], limit: limit, name: label)
        case .cifar10, .cifar100:
            let variant = CIFARImporter.Variant(rawValue: format.rawValue)!
            if let directory { sources = try variant.standardFiles(split: split ?? "train").map { directory + "/" + $0 } }
            for path in sources where !fileExists(path) { throw MTError.badInput(path, nil, "no such file") }
            dataset = try CIFARImporter.load(variant, files: sources, limit: limit, name: label)
        case .images, .png:
            guard let directory else { throw MTError.usage("images: give one directory of images") }
            try importFolder(directory, images, limit: limit, name: name ?? "images", output: output)
            return
        }
        try dataset.write(output, inputs: sources)
        Console.note("wrote \(output): \(dataset.count) images \(dataset.height)x\(dataset.width)x\(dataset.channels), \(dataset.classCount) classes")
    }

    /// Streams a folder of images into `output`, `--memory` bounding the block of decoded rows.
    static func importFolder(_ directory: String, _ settings: ImageFolderSettings, limit: Int?, name: String, output: String) throws {
        var importer = ImageFolderImporter(directory: directory, name: name)
        importer.labels = settings.labels
        importer.resize = settings.resize
        importer.channels = settings.channels
        importer.appliesOrientation = settings.appliesOrientation
        importer.skipsBadFiles = settings.skipsBadFiles
        importer.limit = limit
        var inputs = [directory]
        if case .csv(let csv) = settings.labels { inputs.append(csv) }
        let summary = try importer.write(to: output, inputs: inputs, memoryBudget: settings.memoryBudget)
        Console.report(summary.diagnostics)
        for skipped in summary.skipped.prefix(20) { Console.warn("skipped \(directory)/\(skipped.path): \(skipped.reason)") }
        if summary.skipped.count > 20 { Console.warn("skipped \(summary.skipped.count - 20) more (listed in \(output): /skipped)") }
        let classes = summary.classNames.isEmpty ? "unlabelled" : "\(summary.classNames.count) classes"
        Console.note("wrote \(output): \(summary.count) images \(summary.height)x\(summary.width)x\(summary.channels), \(classes)"
                     + (summary.skipped.isEmpty ? "" : ", \(summary.skipped.count) skipped"))
    }
}
