import CFaiss
import MTCore

/// Approximate k-nearest-neighbour graphs through faiss's own indexes (`index_factory` strings such as
/// `IVF4096,Flat`, `IVF16384,PQ32`, `HNSW32`), by inner product like `ExactKNN`: for data sets where exact
/// search, quadratic in N, would take days. Exact search stays mt's own (it is faster than faiss's flat
/// index); this is the faiss route past it, with the same verbs as faiss: train on a sample, add the rows
/// in blocks, search in blocks.
///
/// Memory: the index holds what its factory string says (`Flat`: N x D floats, `PQm`: N x m bytes, HNSW:
/// the vectors plus 2 M links per row), plus one block of rows and the [N, k] result.
///
/// Determinism: training samples rows with `seed`, faiss's k-means has its own fixed seed, and IVF adds
/// and searches give the same result for any thread count and block size. HNSW's graph depends on how
/// rows are inserted (faiss inserts each `add` call's rows level by level, in parallel), so HNSW indexes
/// get all rows in one `add` on one thread: the same graph for any thread count and `--memory`, at the
/// cost of a single-threaded build and the rows held twice (once here, once in the index).
public struct ApproximateKNN: Sendable {
    /// faiss `index_factory` string.
    public var factory: String
    /// IVF: inverted lists visited per query (faiss's default 1 when nil).
    public var nprobe: Int?
    /// HNSW: candidate list size during search (faiss's default 16 when nil).
    public var efSearch: Int?
    /// Rows sampled (without replacement) to train the index; all rows when the data set is smaller.
    public var trainingRows: Int
    public var seed: UInt64

    public static let defaultTrainingRows = 100_000

    public init(factory: String, nprobe: Int? = nil, efSearch: Int? = nil, trainingRows: Int = defaultTrainingRows, seed: UInt64 = 0) {
        self.factory = factory
        self.nprobe = nprobe
        self.efSearch = efSearch
        self.trainingRows = trainingRows
        self.seed = seed
    }

    /// What `selfGraph` made: the graph, and the rows the index found fewer than k other rows for (an IVF
    /// index whose probed lists are short), which were searched exactly instead.
    public struct Result {
        public var graph: KNNGraph
        public var exactFallbackRows: [Int]
    }

    /// The k approximate nearest rows of every row of `rows`, itself excluded, read and added in blocks of
    /// `blockRows`. Throws a usage error for a factory string or parameter faiss refuses.
    public func selfGraph(_ rows: RowMatrix, k: Int, blockRows: Int, progress: ProgressMeter? = nil) throws -> KNNGraph {
        try build(rows, k: k, blockRows: blockRows, progress: progress).graph
    }

    /// - Parameter searched: the rows whose neighbours are wanted (one shard; all by default): the index
    ///   still holds every row, and the graph has `searched.count` rows.
    public func build(_ rows: RowMatrix, k: Int, blockRows: Int, searched: Range<Int>? = nil,
                      progress: ProgressMeter? = nil) throws -> Result {
        let searched = searched ?? 0..<rows.count
        precondition(searched.lowerBound >= 0 && searched.upperBound <= rows.count)
        guard k >= 1, k < rows.count else {
            throw MTError.usage("k=\(k) needs more than k rows, but \(rows.origin) has \(rows.count) (k must be below N)")
        }
        let index = try FaissIndex(factory: factory, dimension: rows.dimension)
        let blockRows = max(1, blockRows)
        if !index.isTrained {
            let sample = Self.sample(count: rows.count, size: min(rows.count, trainingRows), seed: seed)
            let training = try rows.gather(sample, blockBytes: blockRows * rows.dimension * MemoryLayout<Float>.size)
            try index.train(training, count: sample.count)
        }
        let hnsw = factory.uppercased().contains("HNSW")
        let addRows = hnsw ? rows.count : blockRows
        mt_faiss_set_threads(Int32(hnsw ? 1 : Parallel.threadCount))
        var scratch = [Float](repeating: 0, count: rows.isResident ? 0 : max(addRows, blockRows) * rows.dimension)
        try scratch.withUnsafeMutableBufferPointer { buffer in
            for start in stride(from: 0, to: rows.count, by: addRows) {
                let range = start..<min(rows.count, start + addRows)
                try index.add(try rows.rows(range, scratch: buffer.baseAddress), count: range.count)
            }
        }
        mt_faiss_set_threads(Int32(Parallel.threadCount))
        if let nprobe { try index.set("nprobe", Double(nprobe)) }
        if let efSearch { try index.set("efSearch", Double(efSearch)) }

        // k + 1 results: the row itself is among them (or, with duplicates, a row of equal similarity).
        var neighbors = [Int32](repeating: 0, count: searched.count * k)
        var similarities = [Float](repeating: 0, count: searched.count * k)
        var foundSimilarities = [Float](repeating: 0, count: blockRows * (k + 1))
        var found = [Int64](repeating: 0, count: blockRows * (k + 1))
        var shortRows: [Int] = []
        try scratch.withUnsafeMutableBufferPointer { buffer in
            for start in stride(from: searched.lowerBound, to: searched.upperBound, by: blockRows) {
                let range = start..<min(searched.upperBound, start + blockRows)
                try index.search(try rows.rows(range, scratch: buffer.baseAddress), count: range.count, k: k + 1,
                                 similarities: &foundSimilarities, rows: &found)
                for (offset, row) in range.enumerated() {
                    var kept = 0
                    for j in 0..<(k + 1) where kept < k {
                        let candidate = found[offset * (k + 1) + j]
                        guard candidate >= 0 else { break }
                        if candidate == row { continue }
                        let at = (row - searched.lowerBound) * k + kept
                        neighbors[at] = Int32(candidate)
                        similarities[at] = foundSimilarities[offset * (k + 1) + j]
                        kept += 1
                    }
                    if kept < k { shortRows.append(row) }
                }
                progress?.advance(by: range.count)
            }
        }
        progress?.finish()
        if !shortRows.isEmpty {
            let exact = try Self.exactNeighbours(of: shortRows, in: rows, k: k, blockBytes: blockRows * rows.dimension * MemoryLayout<Float>.size)
            for (position, row) in shortRows.enumerated() {
                for j in 0..<k {
                    neighbors[(row - searched.lowerBound) * k + j] = exact.neighbors[position * k + j]
                    similarities[(row - searched.lowerBound) * k + j] = exact.similarities[position * k + j]
                }
            }
        }
        return Result(graph: KNNGraph(neighbors: neighbors, similarities: similarities, count: searched.count, k: k,
                                      databaseSize: rows.count, selfIncluded: false),
                      exactFallbackRows: shortRows)
    }

    /// The exact k nearest other rows of `queries` (row numbers of `rows`), one graph row each: k + 1 are
    /// searched and the row itself dropped (with duplicates of equal similarity, the last one).
    public static func exactNeighbours(of queries: [Int], in rows: RowMatrix, k: Int, blockBytes: Int) throws -> KNNGraph {
        let matrix = try RowMatrix(rows.gather(queries, blockBytes: blockBytes), count: queries.count, dimension: rows.dimension,
                                   origin: rows.origin)
        let withSelf = try ExactKNN.search(matrix, database: rows, k: min(k + 1, rows.count))
        var neighbors = [Int32](), similarities = [Float]()
        neighbors.reserveCapacity(queries.count * k)
        similarities.reserveCapacity(queries.count * k)
        let width = withSelf.k
        for (position, row) in queries.enumerated() {
            var kept = 0
            for j in 0..<width where kept < k && Int(withSelf.neighbors[position * width + j]) != row {
                neighbors.append(withSelf.neighbors[position * width + j])
                similarities.append(withSelf.similarities[position * width + j])
                kept += 1
            }
            if kept < k {   // the row was not among its k + 1 (duplicates ahead of it): take the k first
                neighbors.removeLast(kept)
                similarities.removeLast(kept)
                neighbors += withSelf.neighbors[(position * width)..<(position * width + k)]
                similarities += withSelf.similarities[(position * width)..<(position * width + k)]
            }
        }
        return KNNGraph(neighbors: neighbors, similarities: similarities, count: queries.count, k: k,
                        databaseSize: rows.count, selfIncluded: false)
    }

    /// `size` distinct indices below `count`, sorted (so gathering them streams the file once).
    public static func sample(count: Int, size: Int, seed: UInt64) -> [Int] {
        guard size < count else { return Array(0..<count) }
        var generator = SeededGenerator(seed: seed)
        var indices = Array(0..<count)
        for i in 0..<size { indices.swapAt(i, i + Int(generator.next() % UInt64(count - i))) }
        return indices[0..<size].sorted()
    }
}

/// recall@k of an approximate graph: the share of the exact k nearest rows it found, over `rows` (the
/// query rows `exact` holds, in order).
public enum KNNRecall {
    public static func measure(approximate: KNNGraph, exact: KNNGraph, rows: [Int]) -> Double {
        precondition(exact.count == rows.count && exact.k == approximate.k)
        let k = exact.k
        var hits = 0
        for (position, row) in rows.enumerated() {
            let truth = Set(exact.neighbors[(position * k)..<((position + 1) * k)])
            hits += approximate.neighbors[(row * k)..<((row + 1) * k)].filter { truth.contains($0) }.count
        }
        return rows.isEmpty ? 1 : Double(hits) / Double(rows.count * k)
    }
}

/// Owns one faiss index; every call turns faiss's exceptions into `MTError`.
final class FaissIndex {
    private let handle: OpaquePointer
    let factory: String

    init(factory: String, dimension: Int) throws {
        self.factory = factory
        var made: OpaquePointer?
        try Self.check("--index \(factory)") { mt_faiss_create(factory, Int32(dimension), &made, $0, $1) }
        handle = made!
    }

    deinit { mt_faiss_free(handle) }

    var isTrained: Bool { mt_faiss_is_trained(handle) == 1 }

    func train(_ rows: [Float], count: Int) throws {
        try Self.check("--index \(factory): training") { mt_faiss_train(handle, Int64(count), rows, $0, $1) }
    }

    func add(_ rows: UnsafePointer<Float>, count: Int) throws {
        try Self.check("--index \(factory): adding rows") { mt_faiss_add(handle, Int64(count), rows, $0, $1) }
    }

    func set(_ parameter: String, _ value: Double) throws {
        try Self.check("--index \(factory): \(parameter)") { mt_faiss_set_parameter(handle, parameter, value, $0, $1) }
    }

    func search(_ queries: UnsafePointer<Float>, count: Int, k: Int, similarities: inout [Float], rows: inout [Int64]) throws {
        try similarities.withUnsafeMutableBufferPointer { s in
            try rows.withUnsafeMutableBufferPointer { r in
                try Self.check("--index \(factory): search") {
                    mt_faiss_search(handle, Int64(count), queries, Int64(k), s.baseAddress, r.baseAddress, $0, $1)
                }
            }
        }
    }

    private static func check(_ what: String, _ call: (UnsafeMutablePointer<CChar>, Int) -> Int32) throws {
        var message = [CChar](repeating: 0, count: 512)
        let status = message.withUnsafeMutableBufferPointer { call($0.baseAddress!, $0.count) }
        guard status == 0 else {
            // faiss prefixes "Error in FUNCTION at FILE.cpp:LINE: "; the rest says what went wrong.
            var text = String(cString: message).split(separator: "\n").first.map(String.init) ?? "faiss failed"
            if let location = text.firstMatch(of: /\.(cpp|h):\d+: (Error: )?/) { text = String(text[location.range.upperBound...]) }
            throw MTError.usage("\(what): faiss: \(text)")
        }
    }
}
