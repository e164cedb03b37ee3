import MTCore

extension ImageDataset {
    /// Reads and checks a dataset file.
    public static func read(_ path: String) throws -> ImageDataset {
        try DatasetRows(path).whole()
    }

    /// Writes the dataset artifact atomically.
    public func write(_ path: String, inputs: [String]) throws {
        let writer = try ArtifactWriter(path, kind: .dataset, inputs: inputs)
        try writer.file.write("/images", images, shape: [count, height, width, channels], deflate: 4)
        try writer.file.write("/labels", labels)
        try writer.file.writeStrings("/class_names", classNames)
        if !paths.isEmpty { try writer.file.writeStrings("/paths", paths) }
        try writer.file.setAttribute("name", name)
        try writer.commit()
    }
}

/// A dataset file read in row blocks: shape, labels and class names at once, images only as asked for, so
/// embedding a data set larger than memory holds one block at a time.
public final class DatasetRows {
    public let path: String
    public let count: Int, height: Int, width: Int, channels: Int
    public let labels: [Int32]
    public let classNames: [String]
    public let name: String
    private let reader: ArtifactReader

    public init(_ path: String) throws {
        self.path = path
        reader = try ArtifactReader(path, expecting: .dataset)
        let shape = try reader.check("/images", as: UInt8.self, shape: ["N", "H", "W", "C"])
        try reader.check("/labels", as: Int32.self, shape: ["N"])
        let names = try reader.classNames()
        let (labels, classCount) = try reader.readLabels("/labels", shape: ["N"], classes: names.isEmpty ? nil : names.count,
                                                        unknownAllowed: true)
        (count, height, width, channels) = (shape[0], shape[1], shape[2], shape[3])
        self.labels = labels
        classNames = names.isEmpty ? (0..<classCount).map(String.init) : names
        name = reader.stringAttribute("name") ?? ""
    }

    /// Every row, with the paths: the images in one read, checked against the read budget first (HDF5 lets
    /// a tiny file declare a dataset of any size).
    public func whole() throws -> ImageDataset {
        let images = try reader.read("/images", as: UInt8.self, shape: ["N", "H", "W", "C"])
        let paths = reader.file.exists("/paths") ? try reader.readStrings("/paths", shape: ["N"]) : []
        return ImageDataset(images: images.values, count: count, height: height, width: width, channels: channels,
                            labels: labels, classNames: classNames, name: name, paths: paths)
    }

    /// Rows `range` as a data set of their own (images and labels; paths are not read).
    public func block(_ range: Range<Int>) throws -> ImageDataset {
        let images = try reader.file.readRows("/images", rows: range, as: UInt8.self)
        return ImageDataset(images: images.values, count: range.count, height: height, width: width, channels: channels,
                            labels: Array(labels[range]), classNames: classNames, name: name)
    }
}
