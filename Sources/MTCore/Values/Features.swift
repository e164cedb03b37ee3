/// An embedding of every sample: the `features` artifact.
///
/// On disk: `/features` float32 [N,D] (row i embeds sample i of the data set), `/labels` int32 [N]
/// (-1 unknown; copied from the data set so that evaluation needs only this file), attributes `model`
/// (what made the embedding) and `normalized` (1 when rows have unit L2 norm).
public struct Features: Sendable {
    public var values: [Float]
    public var count: Int
    public var dimension: Int
    public var labels: [Int32]
    public var model: String
    public var normalized: Bool

    public init(values: [Float], count: Int, dimension: Int, labels: [Int32], model: String, normalized: Bool) {
        precondition(values.count == count * dimension && labels.count == count)
        self.values = values
        self.count = count
        self.dimension = dimension
        self.labels = labels
        self.model = model
        self.normalized = normalized
    }
}
