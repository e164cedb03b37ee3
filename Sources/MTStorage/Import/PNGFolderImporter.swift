import Foundation
import MTCore

/// Imports a folder of PNG images, either one subfolder per class (classes in name order) or flat with a
/// CSV of labels (`file,label` per line; a header line is skipped; labels are class names or numbers).
/// Every image must have the same size. The data set is gray when every image is gray, RGB otherwise.
public enum PNGFolderImporter {
    public static func load(directory: String, labelsCSV: String? = nil, limit: Int? = nil, name: String) throws -> ImageDataset {
        guard directoryExists(directory) else { throw MTError.badInput(directory, nil, "not a directory") }
        var entries: [(path: String, label: Int32)] = []
        var classNames: [String]
        if let labelsCSV {
            (entries, classNames) = try readCSV(labelsCSV, directory: directory)
        } else {
            classNames = try contents(of: directory).filter { directoryExists(directory + "/" + $0) }
            guard !classNames.isEmpty else {
                throw MTError.badInput(directory, nil, "expected one subfolder per class (or give --labels CSV)")
            }
            for (label, className) in classNames.enumerated() {
                let folder = directory + "/" + className
                for file in try contents(of: folder) where file.lowercased().hasSuffix(".png") {
                    entries.append((folder + "/" + file, Int32(label)))
                }
            }
        }
        if let limit { entries = Array(entries.prefix(limit)) }
        guard !entries.isEmpty else { throw MTError.badInput(directory, nil, "no .png images found") }
        let decoded = try entries.map { try PNGImage.read($0.path) }
        let first = decoded[0]
        if let odd = zip(entries, decoded).first(where: { $0.1.width != first.width || $0.1.height != first.height }) {
            throw MTError.badInput(odd.0.path, nil, "expected \(first.width)x\(first.height) like \(entries[0].path), found \(odd.1.width)x\(odd.1.height)")
        }
        let channels = decoded.contains { $0.channels >= 3 } ? 3 : 1
        var images: [UInt8] = []
        images.reserveCapacity(decoded.count * first.width * first.height * channels)
        for image in decoded { images.append(contentsOf: image.converted(toChannels: channels)) }
        return ImageDataset(images: images, count: decoded.count, height: first.height, width: first.width,
                            channels: channels, labels: entries.map(\.label), classNames: classNames, name: name)
    }

    private static func contents(of directory: String) throws -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: directory).filter { !$0.hasPrefix(".") }.sorted()
        } catch {
            throw MTError.badInput(directory, nil, "cannot list directory")
        }
    }

    /// Parses `file,label` lines. Labels that are all integers are used as class numbers; otherwise
    /// class names are sorted and numbered. An empty label means unknown (-1).
    private static func readCSV(_ path: String, directory: String) throws -> ([(path: String, label: Int32)], [String]) {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw MTError.badInput(path, nil, "cannot read labels CSV")
        }
        var rows: [(String, String)] = []
        for (number, line) in text.split(whereSeparator: \.isNewline).enumerated() {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count >= 2 else { throw MTError.badInput(path, nil, "line \(number + 1): expected file,label") }
            if number == 0, !fields[0].lowercased().hasSuffix(".png") { continue }
            rows.append((fields[0], fields[1]))
        }
        let known = rows.map(\.1).filter { !$0.isEmpty }
        let numeric = known.allSatisfy { Int32($0) != nil }
        let names = numeric ? (0...Int(known.compactMap { Int32($0) }.max() ?? 0)).map(String.init) : Array(Set(known)).sorted()
        let entries = try rows.map { file, label -> (path: String, label: Int32) in
            let value: Int32 = label.isEmpty ? -1 : (numeric ? Int32(label)! : Int32(names.firstIndex(of: label)!))
            guard value >= -1 else { throw MTError.badInput(path, nil, "\(file): expected a label >= 0, found \(label)") }
            return (directory + "/" + file, value)
        }
        return (entries, names)
    }
}
