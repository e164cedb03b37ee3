import MTCore

extension KNNGraph {
    public static func read(_ path: String) throws -> KNNGraph {
        let reader = try ArtifactReader(path, expecting: .graph)
        let shape = try reader.check("/neighbors", as: Int32.self, shape: ["N", "K"])
        let databaseSize = reader.intAttribute("database_size") ?? shape[0]
        guard (1...Int(Int32.max)).contains(databaseSize) else {
            throw MTError.badInput(path, nil, "expected database_size in 1...\(Int32.max), found \(databaseSize)")
        }
        let neighbors = try reader.readIndices("/neighbors", stored: Int32.self, shape: ["N", "K"], below: databaseSize, unique: false)
        let similarities = try reader.readFinite("/similarities", shape: ["N", "K"])
        return KNNGraph(neighbors: neighbors.map { Int32($0) }, similarities: similarities.values, count: shape[0],
                        k: shape[1], databaseSize: databaseSize, selfIncluded: reader.intAttribute("self_included") == 1)
    }

    /// `attributes`: how an approximate graph was made (`index`, `nprobe`, `ef_search`, `recall`, ...).
    public func write(_ path: String, inputs: [String], attributes: [String: AttributeValue] = [:]) throws {
        let writer = try ArtifactWriter(path, kind: .graph, inputs: inputs)
        for (name, value) in attributes.sorted(by: { $0.key < $1.key }) { try writer.file.setAttribute(name, value) }
        try writer.file.write("/neighbors", neighbors, shape: [count, k])
        try writer.file.write("/similarities", similarities, shape: [count, k])
        try writer.file.setAttribute("k", k)
        try writer.file.setAttribute("metric", "inner_product")
        try writer.file.setAttribute("self_included", selfIncluded ? 1 : 0)
        try writer.file.setAttribute("database_size", databaseSize)
        try writer.commit()
    }
}


/// Which part of a sharded graph a file holds (`mt-knn graph --shard i/n`): rows `rowOffset ..< rowOffset +
/// count` of a graph of `totalRows` rows, made by the run `run` describes (features, k and index settings),
/// so `mt-knn merge` can refuse shards of different runs.
public struct GraphShard: Equatable, Sendable {
    public var index: Int
    public var count: Int
    public var rowOffset: Int
    public var totalRows: Int
    public var run: String

    public init(index: Int, count: Int, rowOffset: Int, totalRows: Int, run: String) {
        self.index = index
        self.count = count
        self.rowOffset = rowOffset
        self.totalRows = totalRows
        self.run = run
    }

    /// Rows of shard `index` of `count` over `rows` rows: as equal as integer division allows.
    public static func rows(index: Int, count: Int, of rows: Int) -> Range<Int> {
        (index * rows / count)..<((index + 1) * rows / count)
    }

    public var attributes: [String: AttributeValue] {
        ["shard_index": .int(index), "shard_count": .int(count), "row_offset": .int(rowOffset),
         "total_rows": .int(totalRows), "shard_of": .string(run)]
    }

    /// The shard a graph file says it is, or nil for a whole graph.
    public static func read(_ path: String) throws -> GraphShard? {
        let reader = try ArtifactReader(path, expecting: .graph)
        guard let index = reader.intAttribute("shard_index") else { return nil }
        guard let count = reader.intAttribute("shard_count"), let offset = reader.intAttribute("row_offset"),
              let total = reader.intAttribute("total_rows"), let run = reader.stringAttribute("shard_of"),
              (0..<count).contains(index) else {
            throw MTError.badInput(path, nil, "expected shard_index in 0..<shard_count, row_offset, total_rows and shard_of on a graph shard")
        }
        return GraphShard(index: index, count: count, rowOffset: offset, totalRows: total, run: run)
    }
}
