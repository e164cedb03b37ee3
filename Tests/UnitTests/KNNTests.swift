import Foundation
import TestSupport
import Testing
@testable import MTCore
@testable import MTStorage
@testable import MTAlgorithms
@testable import MTNetwork
@testable import MTCommand

/// Exact kNN search against brute force. Integer-valued features make every inner product exact in
/// float whatever the summation order, so neighbour lists, ties included, must match exactly.
@Suite(.serialized) struct KNNTests {
    /// Rows of small integers (many exact ties), row-major [count, dimension].
    static func integerRows(_ count: Int, _ dimension: Int, seed: UInt64) -> [Float] {
        var generator = SeededGenerator(seed: seed)
        return (0..<(count * dimension)).map { _ in Float(Int(generator.next() % 5) - 2) }
    }

    static func normalRows(_ count: Int, _ dimension: Int, seed: UInt64) -> [Float] {
        var generator = SeededGenerator(seed: seed)
        return (0..<(count * dimension)).map { _ in generator.nextNormal() }
    }

    /// The k best database rows of each query: similarity descending, then index ascending.
    static func bruteForce(_ queries: [Float], _ database: [Float], dimension d: Int, k: Int, excludeSelf: Bool)
        -> (neighbors: [Int32], similarities: [Float]) {
        let queryCount = queries.count / d, databaseCount = database.count / d
        var neighbors: [Int32] = [], similarities: [Float] = []
        for q in 0..<queryCount {
            var candidates: [(Float, Int)] = []
            for j in 0..<databaseCount where !(excludeSelf && j == q) {
                var s: Float = 0
                for t in 0..<d { s += queries[q * d + t] * database[j * d + t] }
                candidates.append((s, j))
            }
            candidates.sort { $0.0 != $1.0 ? $0.0 > $1.0 : $0.1 < $1.1 }
            neighbors += candidates.prefix(k).map { Int32($0.1) }
            similarities += candidates.prefix(k).map(\.0)
        }
        return (neighbors, similarities)
    }

    @Test(arguments: [(37, 8), (64, 8), (5, 8), (100, 16)])
    func selfSearchMatchesBruteForceWithTies(count: Int, tile: Int) throws {
        let d = 6, k = min(4, count - 1)
        let rows = Self.integerRows(count, d, seed: UInt64(count))
        let graph = try ExactKNN.search(try RowMatrix(rows, count: count, dimension: d), k: k, tile: tile)
        let expected = Self.bruteForce(rows, rows, dimension: d, k: k, excludeSelf: true)
        #expect(graph.neighbors == expected.neighbors)
        #expect(graph.similarities == expected.similarities)
        #expect(graph.count == count && graph.k == k && graph.databaseSize == count && !graph.selfIncluded)
        #expect((0..<count).allSatisfy { row in !graph.neighbors[(row * k)..<((row + 1) * k)].contains(Int32(row)) })
    }

    @Test func queriesAgainstDatabaseMatchBruteForce() throws {
        let d = 5, k = 7
        let queries = Self.integerRows(23, d, seed: 1), database = Self.integerRows(41, d, seed: 2)
        let graph = try ExactKNN.search(try RowMatrix(queries, count: 23, dimension: d),
                                        database: try RowMatrix(database, count: 41, dimension: d), k: k, tile: 8)
        let expected = Self.bruteForce(queries, database, dimension: d, k: k, excludeSelf: false)
        #expect(graph.neighbors == expected.neighbors)
        #expect(graph.similarities == expected.similarities)
        #expect(graph.count == 23 && graph.databaseSize == 41)
    }

    @Test func everyRowIdenticalGivesLowestIndices() throws {
        let graph = try ExactKNN.search(try RowMatrix([Float](repeating: 1, count: 30 * 3), count: 30, dimension: 3), k: 3, tile: 4)
        #expect(graph.neighbors[0..<3] == [1, 2, 3])
        #expect(graph.neighbors[(7 * 3)..<(8 * 3)] == [0, 1, 2])
        #expect(graph.neighbors[(29 * 3)..<(30 * 3)] == [0, 1, 2])
    }

    @Test func resultDoesNotDependOnThreadCount() throws {
        let rows = Self.normalRows(300, 20, seed: 7)
        var results: [KNNGraph] = []
        for threads in [1, 2, 3, 5] {
            try Parallel.$threadCount.withValue(threads) {
                results.append(try ExactKNN.search(try RowMatrix(rows, count: 300, dimension: 20), k: 9, tile: 16))
            }
        }
        for result in results.dropFirst() {
            #expect(result.neighbors == results[0].neighbors)
            #expect(result.similarities == results[0].similarities)
        }
    }

    @Test func streamingFromDiskMatchesInMemory() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let count = 203, d = 16, tile = 8
            let rows = Self.integerRows(count, d, seed: 3)
            try Features(values: rows, count: count, dimension: d, labels: [Int32](repeating: -1, count: count),
                         model: "test", normalized: false).write(dir + "/f.h5", inputs: [])
            let queries = Self.integerRows(50, d, seed: 4)
            try Features(values: queries, count: 50, dimension: d, labels: [Int32](repeating: -1, count: 50),
                         model: "test", normalized: false).write(dir + "/q.h5", inputs: [])
            // Room for up to 8 tile buffers and two panels of 3 tiles: the 203 rows are read in panels.
            let budget = 8 * tile * tile * 4 + 2 * 24 * d * 4
            let streamed = try ExactKNN.search(try RowMatrix(source: FeatureRows(dir + "/f.h5")), k: 6, memoryBudget: budget, tile: tile)
            let expected = Self.bruteForce(rows, rows, dimension: d, k: 6, excludeSelf: true)
            #expect(streamed.neighbors == expected.neighbors)
            #expect(streamed.similarities == expected.similarities)
            // Shards of the streamed search (panels of 24 rows, shard edges inside and across panels).
            var sharded: [Int32] = []
            for part in [0..<13, 13..<70, 70..<71, 71..<203] {
                let shard = try ExactKNN.search(try RowMatrix(source: FeatureRows(dir + "/f.h5")), k: 6, memoryBudget: budget, tile: tile, shard: part)
                sharded += shard.neighbors
            }
            #expect(sharded == expected.neighbors)

            let streamedQueries = try ExactKNN.search(try RowMatrix(source: FeatureRows(dir + "/q.h5")), database: try RowMatrix(source: FeatureRows(dir + "/f.h5")),
                                                      k: 6, memoryBudget: budget, tile: tile)
            let expectedQueries = Self.bruteForce(queries, rows, dimension: d, k: 6, excludeSelf: false)
            #expect(streamedQueries.neighbors == expectedQueries.neighbors)
            #expect(streamedQueries.similarities == expectedQueries.similarities)

            #expect(throws: MTError.self) {
                try ExactKNN.search(try RowMatrix(source: FeatureRows(dir + "/f.h5")), k: 6, memoryBudget: 1000, tile: tile)
            }
        }
    }

    @Test func kOfAtLeastNIsRejected() throws {
        let rows = try RowMatrix(Self.integerRows(10, 3, seed: 5), count: 10, dimension: 3)
        #expect(throws: MTError.self) { try ExactKNN.search(rows, k: 10) }
        #expect(throws: MTError.self) { try ExactKNN.search(rows, k: 0) }
        do {
            _ = try ExactKNN.search(rows, k: 12)
            Issue.record("k=12 with 10 rows was accepted")
        } catch let error as MTError {
            #expect(error.exitCode == 2 && error.message.contains("k must be below N"))
        }
        // Against another set, k may equal its size.
        let graph = try ExactKNN.search(rows, database: try RowMatrix(Self.integerRows(4, 3, seed: 6), count: 4, dimension: 3), k: 4)
        #expect(graph.k == 4)
        #expect(throws: MTError.self) {
            try ExactKNN.search(rows, database: try RowMatrix(Self.integerRows(4, 3, seed: 6), count: 4, dimension: 3), k: 5)
        }
    }

    @Test func nonFiniteFeaturesAreRejected() throws {
        #expect(throws: MTError.self) { try RowMatrix([1, 2, .nan, 4], count: 2, dimension: 2) }
        #expect(throws: MTError.self) { try RowMatrix([1, .infinity, 3, 4], count: 2, dimension: 2) }
    }

    @Test func selectorKeepsTheBestWhateverTheOrder() {
        let similarities: [Float] = [0.5, 0.9, 0.5, 0.1, 0.9, 0.7, 0.5, 0.3]
        var generator = SeededGenerator(seed: 11)
        for _ in 0..<20 {
            let selector = TopKSelector(rows: 1, k: 4)
            for index in Array(similarities.indices).shuffled(using: &generator) {
                selector.offer(row: 0, similarity: similarities[index], index: Int32(index))
            }
            let (indices, values) = selector.sortedRows()
            #expect(indices == [1, 4, 5, 0])
            #expect(values == [0.9, 0.9, 0.7, 0.5])
        }
    }

    @Test func byteCountsParse() {
        #expect(ByteCount(argument: "512M")?.bytes == 512 << 20)
        #expect(ByteCount(argument: "2g")?.bytes == 2 << 30)
        #expect(ByteCount(argument: "1.5K")?.bytes == 1536)
        #expect(ByteCount(argument: "4096")?.bytes == 4096)
        #expect(ByteCount(argument: "lots") == nil && ByteCount(argument: "-1M") == nil)
    }
}
