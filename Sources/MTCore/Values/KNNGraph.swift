/// The K nearest neighbours of every query row: the `graph` artifact (cf. ann-benchmarks' HDF5 files).
///
/// On disk: `/neighbors` int32 [N,K] database row indices sorted by decreasing similarity (ties by lower
/// index), `/similarities` float32 [N,K] inner products; attributes `k`, `metric` (`inner_product`),
/// `self_included` (1 when a row may be its own neighbour), `database_size`.
public struct KNNGraph: Sendable {
    public var neighbors: [Int32]
    public var similarities: [Float]
    public var count: Int
    public var k: Int
    public var databaseSize: Int
    public var selfIncluded: Bool

    public init(neighbors: [Int32], similarities: [Float], count: Int, k: Int, databaseSize: Int, selfIncluded: Bool) {
        precondition(neighbors.count == count * k && similarities.count == count * k)
        self.neighbors = neighbors
        self.similarities = similarities
        self.count = count
        self.k = k
        self.databaseSize = databaseSize
        self.selfIncluded = selfIncluded
    }
}
