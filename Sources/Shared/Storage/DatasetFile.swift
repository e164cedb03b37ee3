/// A labelled image data set in memory: the `dataset` artifact.
///
/// On disk: `/images` uint8 [N,H,W,C] (chunked, gzip), `/labels` int32 [N] with -1 for unknown,
/// `/class_names` strings [C]; attribute `name`.
public struct ImageDataset: Sendable {
    public var images: [UInt8]
    public var count: Int
    public var height: Int
    public var width: Int
    public var channels: Int
    public var labels: [Int32]
    public var classNames: [String]
    public var name: String

    public init(images: [UInt8], count: Int, height: Int, width: Int, channels: Int,
                labels: [Int32], classNames: [String], name: String) {
        precondition(images.count == count * height * width * channels && labels.count == count)
        self.images = images
        self.count = count
        self.height = height
        self.width = width
        self.channels = channels
        self.labels = labels
        self.classNames = classNames
        self.name = name
    }

    /// Values per image (H * W * C).
    public var imageSize: Int { height * width * channels }

    /// Reads and checks a dataset file.
    public static func read(_ path: String) throws -> ImageDataset {
        let reader = try ArtifactReader(path, expecting: .dataset)
        let images = try reader.read("/images", as: UInt8.self, shape: ["N", "H", "W", "C"])
        let labels = try reader.read("/labels", as: Int32.self, shape: ["N"])
        let names = reader.file.exists("/class_names") ? try reader.file.readStrings("/class_names") : []
        let classCount = max(names.count, Int(labels.values.max() ?? -1) + 1)
        if let bad = labels.values.first(where: { $0 < -1 || ($0 >= 0 && !names.isEmpty && Int($0) >= names.count) }) {
            throw MTError.badInput(path, "/labels", "expected labels in -1..<\(classCount), found \(bad)")
        }
        return ImageDataset(images: images.values, count: images.shape[0], height: images.shape[1],
                            width: images.shape[2], channels: images.shape[3], labels: labels.values,
                            classNames: names.isEmpty ? (0..<classCount).map(String.init) : names,
                            name: reader.stringAttribute("name") ?? "")
    }

    /// Writes the dataset artifact atomically.
    public func write(_ path: String, inputs: [String]) throws {
        let writer = try ArtifactWriter(path, kind: .dataset, inputs: inputs)
        try writer.file.write("/images", images, shape: [count, height, width, channels], deflate: 4)
        try writer.file.write("/labels", labels)
        try writer.file.writeStrings("/class_names", classNames)
        try writer.file.setAttribute("name", name)
        try writer.commit()
    }

    /// Labels of classes present (label >= 0); the number of classes is `classNames.count`.
    public var classCount: Int { classNames.count }
}
