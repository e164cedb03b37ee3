import MTCore

/// Reads the MNIST idx files (raw or .gz): `idx3-ubyte` images (magic 0x00000803, big-endian N, rows,
/// columns, then N*rows*columns bytes) and `idx1-ubyte` labels (magic 0x00000801, N, then N bytes).
public enum MNISTImporter {
    /// The conventional file names of a split inside an MNIST directory.
    public static func standardFiles(directory: String, split: String) throws -> (images: String, labels: String) {
        let prefix: String
        switch split {
        case "train": prefix = "train"
        case "test": prefix = "t10k"
        default: throw MTError.usage("--split must be train or test, got '\(split)'")
        }
        return try ["images-idx3-ubyte", "labels-idx1-ubyte"].map { stem -> String in
            for name in ["\(prefix)-\(stem).gz", "\(prefix)-\(stem)"] {
                let path = directory + "/" + name
                if fileExists(path) { return path }
            }
            throw MTError.badInput(directory, nil, "no \(prefix)-\(stem)[.gz] in this directory")
        }.pair()
    }

    /// Imports images and labels; `limit` keeps the first samples only.
    public static func load(images imagesPath: String, labels labelsPath: String, limit: Int? = nil, name: String) throws -> ImageDataset {
        let imageBytes = try readPossiblyGzipped(imagesPath)
        let labelBytes = try readPossiblyGzipped(labelsPath)
        let imageHeader = try header(imageBytes, path: imagesPath, magic: 0x0803, dimensions: 3)
        let labelHeader = try header(labelBytes, path: labelsPath, magic: 0x0801, dimensions: 1)
        let (count, height, width) = (imageHeader[0], imageHeader[1], imageHeader[2])
        guard labelHeader[0] == count else {
            throw MTError.badInput(labelsPath, nil, "expected \(count) labels to match \(imagesPath), found \(labelHeader[0])")
        }
        let imageStart = 16, labelStart = 8
        guard imageBytes.count >= imageStart + count * height * width else {
            throw MTError.badInput(imagesPath, nil, "expected \(count)x\(height)x\(width) pixels, file is too short (\(imageBytes.count) bytes)")
        }
        guard labelBytes.count >= labelStart + count else {
            throw MTError.badInput(labelsPath, nil, "expected \(count) labels, file is too short (\(labelBytes.count) bytes)")
        }
        let kept = min(count, limit ?? count)
        let labels = labelBytes[labelStart..<(labelStart + kept)].map { Int32($0) }
        if let bad = labels.first(where: { $0 > 9 }) { throw MTError.badInput(labelsPath, nil, "expected labels 0-9, found \(bad)") }
        return ImageDataset(images: Array(imageBytes[imageStart..<(imageStart + kept * height * width)]),
                            count: kept, height: height, width: width, channels: 1, labels: labels,
                            classNames: (0...9).map(String.init), name: name)
    }

    private static func header(_ bytes: [UInt8], path: String, magic: UInt32, dimensions: Int) throws -> [Int] {
        func word(_ offset: Int) -> UInt32 {
            bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | UInt32($1) }
        }
        guard bytes.count >= 4 + 4 * dimensions else { throw MTError.badInput(path, nil, "too short for an idx header") }
        guard word(0) == magic else {
            throw MTError.badInput(path, nil, "expected idx magic number 0x\(String(magic, radix: 16, uppercase: false).leftPadded(8)), found 0x\(String(word(0), radix: 16).leftPadded(8))")
        }
        return (0..<dimensions).map { Int(word(4 + 4 * $0)) }
    }
}

extension String {
    func leftPadded(_ width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}

extension Array {
    /// The two elements of a two-element array.
    func pair() -> (Element, Element) { (self[0], self[1]) }
}
