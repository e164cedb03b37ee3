import MTCore

/// Which part of a sharded artifact a file holds (`mt-knn graph --shard i/n`, `mt-features extract --shard
/// i/n`): rows `rowOffset ..< rowOffset + (its rows)` of `totalRows`, made by the run `run` describes
/// (inputs and parameters), so `merge` can refuse shards of different runs.
public struct RowShard: Equatable, Sendable {
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

    /// The rows this shard holds.
    public var rows: Range<Int> { Self.rows(index: index, count: count, of: totalRows) }

    public var attributes: [String: AttributeValue] {
        ["shard_index": .int(index), "shard_count": .int(count), "row_offset": .int(rowOffset),
         "total_rows": .int(totalRows), "shard_of": .string(run)]
    }

    /// The shard an artifact of `kind` says it is, or nil for a whole one.
    public static func read(_ path: String, kind: ArtifactKind) throws -> RowShard? {
        let reader = try ArtifactReader(path, expecting: kind)
        guard let index = reader.intAttribute("shard_index") else { return nil }
        guard let count = reader.intAttribute("shard_count"), let offset = reader.intAttribute("row_offset"),
              let total = reader.intAttribute("total_rows"), let run = reader.stringAttribute("shard_of"),
              (0..<count).contains(index) else {
            throw MTError.badInput(path, nil, "expected shard_index in 0..<shard_count, row_offset, total_rows and shard_of on a shard")
        }
        return RowShard(index: index, count: count, rowOffset: offset, totalRows: total, run: run)
    }
}

extension RowShard {
    /// Checks that `shards` (path and metadata, any order) are every shard of one run exactly once, each
    /// starting where its index says, and returns them in row order.
    public static func complete(_ shards: [(path: String, shard: RowShard)]) throws -> [(path: String, shard: RowShard)] {
        let first = shards[0]
        for (path, shard) in shards.dropFirst() {
            guard shard.run == first.shard.run, shard.count == first.shard.count, shard.totalRows == first.shard.totalRows else {
                throw MTError.badInput(path, nil, "shard of another run: '\(shard.run)' (\(shard.count) shards), but \(first.path) is of '\(first.shard.run)' (\(first.shard.count) shards)")
            }
        }
        let byIndex = Dictionary(grouping: shards, by: \.shard.index)
        if let (index, twice) = byIndex.first(where: { $0.value.count > 1 }) {
            throw MTError.usage("shard \(index)/\(first.shard.count) given twice: \(twice.map(\.path).joined(separator: ", "))")
        }
        let missing = (0..<first.shard.count).filter { byIndex[$0] == nil }
        guard missing.isEmpty else {
            throw MTError.usage("shards \(missing.map { "\($0)/\(first.shard.count)" }.joined(separator: ", ")) of '\(first.shard.run)' are missing")
        }
        let ordered = (0..<first.shard.count).map { byIndex[$0]![0] }
        if let (path, shard) = ordered.first(where: { $0.shard.rowOffset != $0.shard.rows.lowerBound }) {
            throw MTError.badInput(path, nil, "shard \(shard.index)/\(shard.count) should start at row \(shard.rows.lowerBound) of \(shard.totalRows), found row_offset \(shard.rowOffset)")
        }
        return ordered
    }
}
