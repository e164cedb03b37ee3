import MTAlgorithms
import MTCore
import MTNetwork
import MTStorage

/// The source formats `mt-features import` understands.
public enum ImportFormat: String, CaseIterable, Sendable {
    case mnist, cifar10, cifar100, png
}

/// `mt-features import`: reads a data set in a source format and writes a dataset file.
public enum DatasetImport {
    /// - Parameters:
    ///   - inputs: MNIST: the images and labels files, or one directory with `split`; CIFAR: batch files,
    ///     or one directory with `split`; PNG: one directory.
    public static func run(_ format: ImportFormat, inputs: [String], split: String?, labelsCSV: String?,
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
        case .png:
            guard let directory else { throw MTError.usage("png: give one directory of images") }
            dataset = try PNGFolderImporter.load(directory: directory, labelsCSV: labelsCSV, limit: limit, name: label)
            sources = [directory] + (labelsCSV.map { [$0] } ?? [])
        }
        try dataset.write(output, inputs: sources)
        Console.note("wrote \(output): \(dataset.count) images \(dataset.height)x\(dataset.width)x\(dataset.channels), \(dataset.classCount) classes")
    }
}
