import MTCore

/// The labels of a dataset or features file (`/labels`, -1 unknown), its class names and (folder imports)
/// each sample's file: what a split is drawn from, what evaluation scores against, and what a labelling
/// tool is shown. The pixels are not read.
public struct TruthLabels: Sendable {
    public var labels: [Int32]
    /// The file's `/class_names`; empty when it has none.
    public var classNames: [String]
    /// The number of classes: that of `/class_names` when present, else max(label) + 1.
    public var classCount: Int
    /// The file's `/paths` (relative paths of the imported images); empty when it has none.
    public var paths: [String]
    public var count: Int { labels.count }

    public static func read(_ path: String) throws -> TruthLabels {
        let reader = try ArtifactReader(path, expecting: [.dataset, .features])
        // The per-sample data must have as many rows as /labels, or the labels describe other samples.
        let isFeatures = reader.kind == .features || (reader.kind == nil && reader.file.exists("/features"))
        if isFeatures {
            try reader.check("/features", as: Float.self, shape: ["N", "D"])
        } else {
            try reader.check("/images", as: UInt8.self, shape: ["N", "H", "W", "C"])
        }
        let names = try reader.classNames()
        let (labels, classCount) = try reader.readLabels("/labels", shape: ["N"], classes: names.isEmpty ? nil : names.count,
                                                        unknownAllowed: true)
        let paths = reader.file.exists("/paths") ? try reader.readStrings("/paths", shape: ["N"]) : []
        return TruthLabels(labels: labels, classNames: names, classCount: classCount, paths: paths)
    }
}
