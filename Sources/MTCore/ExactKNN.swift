import Foundation

/// Rows that live outside memory (a dataset in a features file) and are read in row ranges on demand.
/// Storage implements it; the search only asks for ranges, so it never touches a file itself.
public protocol RowSource: AnyObject {
    var count: Int { get }
    var dimension: Int { get }
    /// Where the rows come from (a file name), for error messages.
    var origin: String { get }
    /// The dataset inside `origin` the rows are read from (e.g. `/features`), for error messages.
    var dataset: String? { get }
    /// Copies rows `range` (row-major) into `buffer`, which holds `range.count * dimension` values.
    func readRows(_ range: Range<Int>, into buffer: UnsafeMutableBufferPointer<Float>) throws
}

/// The rows of a float matrix to search: held in memory, or left in a `RowSource` and read in row
/// blocks (`panels`) when they do not fit the memory budget.
public final class RowMatrix {
    public let count: Int
    public let dimension: Int
    /// Where the rows come from, for error messages.
    public let origin: String
    private let source: (any RowSource)?
    private var resident: UnsafeMutableBufferPointer<Float>?

    public var isResident: Bool { resident != nil }
    public var byteCount: Int { count * dimension * MemoryLayout<Float>.size }

    /// Rows already in memory (row-major [count, dimension]).
    public init(_ values: [Float], count: Int, dimension: Int, origin: String = "matrix") throws {
        precondition(values.count == count * dimension)
        self.count = count
        self.dimension = dimension
        self.origin = origin
        source = nil
        let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(1, values.count))
        _ = buffer.initialize(from: values)
        resident = buffer
        try checkFinite(UnsafePointer(buffer.baseAddress!), rows: 0..<count)
    }

    /// Rows to be read from `source` when needed.
    public init(source: any RowSource) {
        self.source = source
        count = source.count
        dimension = source.dimension
        origin = source.origin
    }

    deinit { resident?.deallocate() }

    /// Reads all rows into memory (once).
    public func loadAll() throws {
        guard resident == nil else { return }
        let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(1, count * dimension))
        do {
            try read(0..<count, into: buffer.baseAddress!)
        } catch {
            buffer.deallocate()
            throw error
        }
        resident = buffer
    }

    /// Rows `range`: a pointer into memory when resident, else read from disk into `scratch`.
    public func rows(_ range: Range<Int>, scratch: UnsafeMutablePointer<Float>?) throws -> UnsafePointer<Float> {
        if let resident { return UnsafePointer(resident.baseAddress! + range.lowerBound * dimension) }
        try read(range, into: scratch!)
        return UnsafePointer(scratch!)
    }

    /// Copies the rows at `indices` (in that order) into a new array, streaming the file in blocks of
    /// at most `blockBytes` when not resident.
    public func gather(_ indices: [Int], blockBytes: Int) throws -> [Float] {
        var result = [Float](repeating: 0, count: indices.count * dimension)
        let d = dimension
        if let resident {
            for (slot, row) in indices.enumerated() {
                for j in 0..<d { result[slot * d + j] = resident[row * d + j] }
            }
            return result
        }
        let blockRows = max(1, min(count, blockBytes / max(1, d * MemoryLayout<Float>.size)))
        let order = indices.indices.sorted { indices[$0] < indices[$1] }
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: blockRows * d)
        defer { scratch.deallocate() }
        var next = 0
        for start in stride(from: 0, to: count, by: blockRows) where next < order.count {
            let end = min(count, start + blockRows)
            guard indices[order[next]] < end else { continue }
            try read(start..<end, into: scratch)
            while next < order.count, indices[order[next]] < end {
                let slot = order[next], row = indices[slot] - start
                for j in 0..<d { result[slot * d + j] = scratch[row * d + j] }
                next += 1
            }
        }
        return result
    }

    private func read(_ range: Range<Int>, into buffer: UnsafeMutablePointer<Float>) throws {
        guard let source else { return }
        try source.readRows(range, into: UnsafeMutableBufferPointer(start: buffer, count: range.count * dimension))
        try checkFinite(UnsafePointer(buffer), rows: range)
    }

    /// Refuses NaN and infinite values, which have no place in a similarity order.
    private func checkFinite(_ values: UnsafePointer<Float>, rows: Range<Int>) throws {
        let d = dimension
        for r in 0..<rows.count {
            for j in 0..<d where !values[r * d + j].isFinite {
                throw MTError.badInput(origin, source?.dataset,
                                       "expected finite values, found \(values[r * d + j]) in row \(rows.lowerBound + r)")
            }
        }
    }
}

/// Exact k-nearest-neighbour search by inner product (cosine for unit rows), blocked so that it never
/// forms the full similarity matrix.
///
/// Query and database rows are cut into blocks of `tile` rows. One single-threaded sgemm computes the
/// [tile x tile] similarities of a query block against a database block; while the tile is hot in cache
/// every row of it is scanned into the per-row top-k heaps (`TopKSelector`), and threads take tiles
/// dynamically, so all cores run sgemm at full speed without BLAS-level threading.
///
/// A self-search (no separate queries) is symmetric: s(i, j) = s(j, i). Only the tiles on and above the
/// diagonal are computed, and each off-diagonal tile is scanned twice, by rows for its query block and
/// by columns for its database block — half the arithmetic of a plain all-pairs search. A row never lists
/// itself.
///
/// Memory: the inputs are held in memory if they fit the budget together with one tile per thread;
/// otherwise they are read from disk in panels (row ranges, multiples of the tile) and every pair of
/// panels is searched in turn, so the working set beyond the [N, k] result stays within the budget.
///
/// Determinism: tiles are the same for any thread count, each similarity is computed by exactly one
/// sgemm call, and the top-k order (similarity, then lower index) is total, so results are bit-identical
/// for any thread count and tile schedule.
public enum ExactKNN {
    /// Rows per tile side. A 512 x 512 tile (1 MiB) amortises sgemm's packing of both operands and stays
    /// in L2/L3 while it is scanned twice; measured on MNIST 60k (2 threads), 256 took 5% (D=128) to 35%
    /// (D=784) longer and 128 longer still.
    public static let defaultTile = 512

    /// The k best database rows for every query row (or every row, excluding itself, when `database` is nil).
    /// - Parameters:
    ///   - memoryBudget: bytes for inputs and working buffers; inputs that do not fit are streamed.
    ///   - tile: rows per tile side (tests use small tiles to exercise edges).
    ///   - shard: a self-search for these rows only (one shard of `mt-knn graph --shard i/n`): exactly the
    ///     tiles of the whole search that touch them are computed, by the same sgemm calls, so the rows are
    ///     bit-identical to the unsharded graph's. The graph holds `shard.count` rows.
    public static func search(_ queries: RowMatrix, database: RowMatrix? = nil, k: Int,
                              memoryBudget: Int = 1 << 30, tile: Int = defaultTile, shard: Range<Int>? = nil) throws -> KNNGraph {
        let symmetric = database == nil
        precondition(shard == nil || (symmetric && shard!.lowerBound >= 0 && shard!.upperBound <= queries.count))
        let kept = shard ?? 0..<queries.count
        let database = database ?? queries
        let available = symmetric ? queries.count - 1 : database.count
        guard k >= 1 else { throw MTError.usage("k must be at least 1, got \(k)") }
        guard k <= available else {
            throw MTError.usage(symmetric
                ? "k=\(k) needs more than k rows, but \(queries.origin) has \(queries.count) (k must be below N)"
                : "k=\(k) exceeds the \(database.count) database rows of \(database.origin)")
        }
        guard queries.dimension == database.dimension else {
            throw MTError.badInput(queries.origin, nil, "queries have dimension \(queries.dimension), the database \(database.dimension)")
        }
        let plan = try Plan(queries: queries, database: database, symmetric: symmetric, budget: memoryBudget, tile: tile)
        let selector = TopKSelector(rows: queries.count, k: k)
        let locks = (0..<(queries.count + tile - 1) / tile).map { _ in NSLock() }
        let progress = ProgressMeter("knn", total: plan.totalTiles, unit: "tiles")

        let d = queries.dimension
        let queryScratch = plan.queryPanel < queries.count || !queries.isResident
            ? UnsafeMutablePointer<Float>.allocate(capacity: plan.queryPanel * d) : nil
        let databaseScratch = !symmetric && (plan.databasePanel < database.count || !database.isResident)
            ? UnsafeMutablePointer<Float>.allocate(capacity: plan.databasePanel * d) : nil
        let otherScratch = symmetric && plan.queryPanel < queries.count
            ? UnsafeMutablePointer<Float>.allocate(capacity: plan.queryPanel * d) : nil
        let tiles = TileBuffers(size: tile * tile)
        defer {
            queryScratch?.deallocate()
            databaseScratch?.deallocate()
            otherScratch?.deallocate()
        }

        try BLAS.singleThreaded {
            for queryStart in stride(from: 0, to: queries.count, by: plan.queryPanel) {
                let queryRows = queryStart..<min(queries.count, queryStart + plan.queryPanel)
                let queryBlock = try queries.rows(queryRows, scratch: queryScratch)
                let firstDatabase = symmetric ? queryStart : 0
                for databaseStart in stride(from: firstDatabase, to: database.count, by: plan.databasePanel) {
                    let databaseRows = databaseStart..<min(database.count, databaseStart + plan.databasePanel)
                    if shard != nil, !queryRows.overlaps(kept), !databaseRows.overlaps(kept) { continue }
                    let diagonal = symmetric && databaseStart == queryStart
                    let databaseBlock = diagonal ? queryBlock
                        : try database.rows(databaseRows, scratch: symmetric ? otherScratch : databaseScratch)
                    var pairs = tilePairs(queryRows.count, databaseRows.count, tile: tile, triangle: diagonal)
                    if shard != nil {
                        // A tile feeds its rows (row scan) and its columns (column scan): keep those touching the shard.
                        pairs = pairs.filter { i, j in
                            let rows = (queryStart + i * tile)..<min(queryRows.upperBound, queryStart + (i + 1) * tile)
                            let columns = (databaseStart + j * tile)..<min(databaseRows.upperBound, databaseStart + (j + 1) * tile)
                            return rows.overlaps(kept) || columns.overlaps(kept)
                        }
                    }
                    // Rounds only pace the progress line; 32 tiles a thread keep the wait at their ends small.
                    let round = max(1, 32 * Parallel.threadCount)
                    for roundStart in stride(from: 0, to: pairs.count, by: round) {
                        let roundPairs = roundStart..<min(pairs.count, roundStart + round)
                        Parallel.forEachTask(roundPairs.count) { task in
                            let (i, j) = pairs[roundPairs.lowerBound + task]
                            let buffer = tiles.take()
                            defer { tiles.give(buffer) }
                            searchTile(queryBlock, queryStart, queryRows.count, databaseBlock, databaseStart, databaseRows.count,
                                       i, j, d: d, tile: tile, buffer: buffer,
                                       transposed: symmetric && !(diagonal && i == j), excludeSelf: diagonal && i == j,
                                       kept: kept, selector: selector, locks: locks)
                        }
                        progress.advance(by: roundPairs.count)
                    }
                }
            }
        }
        progress.finish()
        let (neighbors, similarities) = selector.sortedRows()
        if shard != nil {
            return KNNGraph(neighbors: Array(neighbors[(kept.lowerBound * k)..<(kept.upperBound * k)]),
                            similarities: Array(similarities[(kept.lowerBound * k)..<(kept.upperBound * k)]),
                            count: kept.count, k: k, databaseSize: database.count, selfIncluded: false)
        }
        return KNNGraph(neighbors: neighbors, similarities: similarities, count: queries.count, k: k,
                        databaseSize: database.count, selfIncluded: false)
    }

    /// Tile coordinates (query tile, database tile) of a panel pair. A diagonal panel of a symmetric
    /// search needs only i <= j; tiles are listed by diagonal so that concurrent tiles rarely share a block.
    static func tilePairs(_ queryRows: Int, _ databaseRows: Int, tile: Int, triangle: Bool) -> [(Int, Int)] {
        let queryTiles = (queryRows + tile - 1) / tile, databaseTiles = (databaseRows + tile - 1) / tile
        var pairs: [(Int, Int)] = []
        pairs.reserveCapacity(triangle ? queryTiles * (queryTiles + 1) / 2 : queryTiles * databaseTiles)
        if triangle {
            for offset in 0..<queryTiles { for i in 0..<(queryTiles - offset) { pairs.append((i, i + offset)) } }
        } else {
            for j in 0..<databaseTiles { for i in 0..<queryTiles { pairs.append((i, j)) } }
        }
        return pairs
    }

    /// One tile: sgemm, then the row scan (and the column scan of a symmetric off-diagonal tile), each
    /// under the lock of the block of heaps it updates.
    @inline(__always)
    private static func searchTile(_ queryBlock: UnsafePointer<Float>, _ queryStart: Int, _ queryCount: Int,
                                   _ databaseBlock: UnsafePointer<Float>, _ databaseStart: Int, _ databaseCount: Int,
                                   _ i: Int, _ j: Int, d: Int, tile: Int, buffer: UnsafeMutablePointer<Float>,
                                   transposed: Bool, excludeSelf: Bool, kept: Range<Int>, selector: TopKSelector, locks: [NSLock]) {
        let rowStart = i * tile, rows = min(tile, queryCount - rowStart)
        let columnStart = j * tile, columns = min(tile, databaseCount - columnStart)
        BLAS.gemm(queryBlock + rowStart * d, databaseBlock + columnStart * d, buffer,
                  m: rows, n: columns, k: d, transposeB: true)
        let firstRow = queryStart + rowStart, firstColumn = databaseStart + columnStart
        // Only the rows (and columns) of `kept` collect candidates; the whole range unless sharded.
        let scannedRows = Self.overlap(kept, from: firstRow, count: rows)
        if !scannedRows.isEmpty {
            locks[firstRow / tile].lock()
            for r in scannedRows {
                selector.scanRow(firstRow + r, buffer + r * columns, count: columns, firstIndex: firstColumn,
                                 excluded: excludeSelf ? firstRow + r : -1)
            }
            locks[firstRow / tile].unlock()
        }
        guard transposed else { return }
        let scannedColumns = Self.overlap(kept, from: firstColumn, count: columns)
        guard !scannedColumns.isEmpty else { return }
        locks[firstColumn / tile].lock()
        for r in 0..<rows {
            selector.scanColumn(firstRow: firstColumn + scannedColumns.lowerBound, buffer + r * columns + scannedColumns.lowerBound,
                                count: scannedColumns.count, index: firstRow + r)
        }
        locks[firstColumn / tile].unlock()
    }

    /// The positions 0..<count of rows first..<first+count that lie in `kept` (possibly none).
    @inline(__always)
    static func overlap(_ kept: Range<Int>, from first: Int, count: Int) -> Range<Int> {
        let lower = min(count, max(0, kept.lowerBound - first))
        return lower..<max(lower, min(count, kept.upperBound - first))
    }

    /// How the inputs are held: panel sizes in rows (the whole input when resident).
    struct Plan {
        var queryPanel: Int
        var databasePanel: Int
        var totalTiles: Int

        init(queries: RowMatrix, database: RowMatrix, symmetric: Bool, budget: Int, tile: Int) throws {
            let rowBytes = queries.dimension * MemoryLayout<Float>.size
            let workspace = Parallel.threadCount * tile * tile * MemoryLayout<Float>.size
            let inputs = symmetric ? [queries] : [queries, database]
            let held = inputs.filter(\.isResident).reduce(0) { $0 + $1.byteCount }
            let streamed = inputs.filter { !$0.isResident }
            if held + streamed.reduce(0, { $0 + $1.byteCount }) + workspace <= budget {
                for input in streamed { try input.loadAll() }
            }
            // Streamed inputs need two panels resident at once (a query panel and a database panel).
            let panelBytes = budget - workspace - (inputs.filter(\.isResident).reduce(0) { $0 + $1.byteCount })
            let panelRows = panelBytes / max(1, 2 * rowBytes) / tile * tile
            if inputs.contains(where: { !$0.isResident }) && panelRows < tile {
                let need = workspace + 2 * tile * rowBytes + (inputs.filter(\.isResident).reduce(0) { $0 + $1.byteCount })
                throw MTError.usage("--memory \(budget) bytes is too small for \(queries.dimension)-dimensional rows; need at least \(need) bytes")
            }
            queryPanel = queries.isResident ? queries.count : min(queries.count, panelRows)
            databasePanel = symmetric ? queryPanel : database.isResident ? database.count : min(database.count, panelRows)
            let tiles = { (rows: Int) in (rows + tile - 1) / tile }
            if symmetric {
                let n = tiles(queries.count)
                totalTiles = n * (n + 1) / 2
            } else {
                totalTiles = tiles(queries.count) * tiles(database.count)
            }
        }
    }
}

/// Tile buffers for the running tasks: a task borrows one for one tile. Buffers are made on demand, so
/// there are as many as tiles ever ran at once (the thread count).
private final class TileBuffers: @unchecked Sendable {
    private let size: Int
    private var free: [UnsafeMutablePointer<Float>] = []
    private var all: [UnsafeMutablePointer<Float>] = []
    private let lock = NSLock()

    init(size: Int) { self.size = size }

    deinit { all.forEach { $0.deallocate() } }

    func take() -> UnsafeMutablePointer<Float> {
        lock.lock()
        defer { lock.unlock() }
        if let buffer = free.popLast() { return buffer }
        let buffer = UnsafeMutablePointer<Float>.allocate(capacity: size)
        all.append(buffer)
        return buffer
    }

    func give(_ buffer: UnsafeMutablePointer<Float>) {
        lock.lock()
        defer { lock.unlock() }
        free.append(buffer)
    }
}
