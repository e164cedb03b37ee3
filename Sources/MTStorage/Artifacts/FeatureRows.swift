import MTCore

/// The `/features` rows of a features file as a `RowSource`: checked on open (kind, dtype, rank), read in
/// row ranges on demand, so a search can stream files larger than its memory budget.
public final class FeatureRows: RowSource {
    public let count: Int
    public let dimension: Int
    public let origin: String
    public let dataset: String? = "/features"
    /// Whether the file says its rows have unit L2 norm (`normalized`); nil when it does not say.
    public let normalized: Bool?
    private let reader: ArtifactReader

    public init(_ path: String) throws {
        let stream = try Features.openStream(path)
        reader = stream.reader
        count = stream.count
        dimension = stream.dimension
        origin = path
        normalized = reader.intAttribute("normalized").map { $0 == 1 }
    }

    public func readRows(_ range: Range<Int>, into buffer: UnsafeMutableBufferPointer<Float>) throws {
        try reader.file.readRows("/features", rows: range, into: buffer)
    }
}
