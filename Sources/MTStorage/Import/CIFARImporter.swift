import Foundation
import MTCore

/// Reads the CIFAR-10 and CIFAR-100 "binary version" batches. Each record is the label byte(s) followed
/// by 3072 bytes: the 32x32 red plane, then green, then blue. CIFAR-100 records carry a coarse and a fine
/// label; mt uses the fine one (100 classes).
public enum CIFARImporter {
    public enum Variant: String, Sendable {
        case cifar10, cifar100

        var labelBytes: Int { self == .cifar10 ? 1 : 2 }
        var classCount: Int { self == .cifar10 ? 10 : 100 }
        var recordSize: Int { labelBytes + 3072 }
        /// The file listing class names, one a line, shipped beside the batches.
        var namesFile: String { self == .cifar10 ? "batches.meta.txt" : "fine_label_names.txt" }

        public func standardFiles(split: String) throws -> [String] {
            switch (self, split) {
            case (.cifar10, "train"): return (1...5).map { "data_batch_\($0).bin" }
            case (.cifar10, "test"): return ["test_batch.bin"]
            case (.cifar100, "train"): return ["train.bin"]
            case (.cifar100, "test"): return ["test.bin"]
            default: throw MTError.usage("--split must be train or test, got '\(split)'")
            }
        }
    }

    /// Imports the given batch files in order; class names come from the variant's names file when it
    /// sits beside the first batch, else "0", "1", ….
    public static func load(_ variant: Variant, files: [String], limit: Int? = nil, name: String) throws -> ImageDataset {
        var images: [UInt8] = []
        var labels: [Int32] = []
        let wanted = limit ?? Int.max
        for path in files where labels.count < wanted {
            let bytes = try readPossiblyGzipped(path)
            guard !bytes.isEmpty, bytes.count % variant.recordSize == 0 else {
                throw MTError.badInput(path, nil, "expected a whole number of \(variant.recordSize)-byte \(variant.rawValue) records, found \(bytes.count) bytes")
            }
            let records = min(bytes.count / variant.recordSize, wanted - labels.count)
            images.reserveCapacity(images.count + records * 3072)
            for record in 0..<records {
                let base = record * variant.recordSize
                let label = Int32(bytes[base + variant.labelBytes - 1])
                guard label < variant.classCount else {
                    throw MTError.badInput(path, nil, "record \(record): expected a label below \(variant.classCount), found \(label)")
                }
                labels.append(label)
                let planes = base + variant.labelBytes
                for pixel in 0..<1024 {
                    images.append(bytes[planes + pixel])
                    images.append(bytes[planes + 1024 + pixel])
                    images.append(bytes[planes + 2048 + pixel])
                }
            }
        }
        return ImageDataset(images: images, count: labels.count, height: 32, width: 32, channels: 3, labels: labels,
                            classNames: classNames(variant, beside: files.first ?? "."), name: name)
    }

    private static func classNames(_ variant: Variant, beside file: String) -> [String] {
        let path = URL(fileURLWithPath: file).deletingLastPathComponent().appendingPathComponent(variant.namesFile).path
        let names = (try? String(contentsOfFile: path, encoding: .utf8))?
            .split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } ?? []
        return names.count == variant.classCount ? names : (0..<variant.classCount).map(String.init)
    }
}
