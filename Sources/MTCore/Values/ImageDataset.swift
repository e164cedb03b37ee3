/// A labelled image data set in memory: the `dataset` artifact.
///
/// On disk: `/images` uint8 [N,H,W,C] (chunked, gzip), `/labels` int32 [N] with -1 for unknown,
/// `/class_names` strings [C]; optionally `/paths` strings [N] (each image's file, relative to the imported
/// folder); attribute `name`.
public struct ImageDataset: Sendable {
    public var images: [UInt8]
    public var count: Int
    public var height: Int
    public var width: Int
    public var channels: Int
    public var labels: [Int32]
    public var classNames: [String]
    public var name: String
    /// Source file of each image (folder imports), else empty.
    public var paths: [String]

    public init(images: [UInt8], count: Int, height: Int, width: Int, channels: Int,
                labels: [Int32], classNames: [String], name: String, paths: [String] = []) {
        precondition(images.count == count * height * width * channels && labels.count == count)
        precondition(paths.isEmpty || paths.count == count)
        self.images = images
        self.count = count
        self.height = height
        self.width = width
        self.channels = channels
        self.labels = labels
        self.classNames = classNames
        self.name = name
        self.paths = paths
    }

    /// Values per image (H * W * C).
    public var imageSize: Int { height * width * channels }

    /// Labels of classes present (label >= 0); the number of classes is `classNames.count`.
    public var classCount: Int { classNames.count }
}
