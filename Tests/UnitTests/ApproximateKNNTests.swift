import Testing
@testable import MTAlgorithms
import Foundation
import MTCore

/// The faiss route of `mt-knn graph --index`: exact where the index is exact, measured recall where it is
/// not, the same graph for any thread count, faiss's refusals as usage errors.
@Suite struct ApproximateKNNTests {
    /// Unit rows around `clusters` random centres, so neighbours are meaningful and similarities untied.
    static func clustered(count: Int, dimension: Int, clusters: Int, seed: UInt64) throws -> RowMatrix {
        var generator = SeededGenerator(seed: seed)
        func gaussian() -> Float {
            let u = max(Double(generator.next() % 1_000_000 + 1) / 1_000_001, 1e-12), v = Double(generator.next() % 1_000_000) / 1_000_000
            return Float((-2 * Foundation.log(u)).squareRoot() * Foundation.cos(2 * Double.pi * v))
        }
        let centres = (0..<(clusters * dimension)).map { _ in gaussian() }
        var rows = [Float](repeating: 0, count: count * dimension)
        for i in 0..<count {
            let c = i % clusters
            for j in 0..<dimension { rows[i * dimension + j] = centres[c * dimension + j] + 0.4 * gaussian() }
        }
        RowOps.normalize(&rows, rows: count, dimension: dimension)
        return try RowMatrix(rows, count: count, dimension: dimension)
    }

    @Test func flatAndFullyProbedIVFAreExact() throws {
        let rows = try Self.clustered(count: 600, dimension: 16, clusters: 12, seed: 1)
        let exact = try ExactKNN.search(rows, k: 8)
        for (factory, nprobe) in [("Flat", nil), ("IVF16,Flat", 16)] as [(String, Int?)] {
            let graph = try ApproximateKNN(factory: factory, nprobe: nprobe).selfGraph(rows, k: 8, blockRows: 100)
            #expect(graph.neighbors == exact.neighbors, "\(factory)")
            #expect(zip(graph.similarities, exact.similarities).allSatisfy { abs($0 - $1) < 1e-5 }, "\(factory)")
            #expect(KNNRecall.measure(approximate: graph, exact: exact, rows: Array(0..<600)) == 1)
        }
    }

    @Test func hnswRecallIsMeasuredAndHigh() throws {
        let rows = try Self.clustered(count: 2000, dimension: 16, clusters: 20, seed: 2)
        let exact = try ExactKNN.search(rows, k: 10)
        let graph = try ApproximateKNN(factory: "HNSW16", efSearch: 64).selfGraph(rows, k: 10, blockRows: 256)
        let recall = KNNRecall.measure(approximate: graph, exact: exact, rows: Array(0..<2000))
        #expect(recall > 0.95 && recall <= 1, "recall \(recall)")
        #expect((0..<2000).allSatisfy { row in !graph.neighbors[(row * 10)..<((row + 1) * 10)].contains(Int32(row)) })
    }

    @Test func graphsDoNotDependOnTheThreadCountOrBlockSize() throws {
        let rows = try Self.clustered(count: 3000, dimension: 24, clusters: 30, seed: 3)
        for factory in ["IVF32,Flat", "HNSW16"] {
            let one = try Parallel.$threadCount.withValue(1) {
                try ApproximateKNN(factory: factory, nprobe: factory.hasPrefix("IVF") ? 4 : nil, trainingRows: 1500)
                    .selfGraph(rows, k: 12, blockRows: 3000)
            }
            let two = try Parallel.$threadCount.withValue(2) {
                try ApproximateKNN(factory: factory, nprobe: factory.hasPrefix("IVF") ? 4 : nil, trainingRows: 1500)
                    .selfGraph(rows, k: 12, blockRows: 700)
            }
            #expect(one.neighbors == two.neighbors && one.similarities == two.similarities, "\(factory)")
        }
    }

    @Test func faissRefusalsAreUsageErrors() throws {
        let rows = try Self.clustered(count: 200, dimension: 8, clusters: 4, seed: 4)
        #expect(throws: MTError.usage("--index IVF8,Fat: faiss: 'index_ivf' failed: could not parse code description Fat in IVF8,Fat")) {
            try ApproximateKNN(factory: "IVF8,Fat").selfGraph(rows, k: 5, blockRows: 50)
        }
        #expect(throws: MTError.self) { try ApproximateKNN(factory: "HNSW8", nprobe: 3).selfGraph(rows, k: 5, blockRows: 50) }
    }

    /// 64 lists of about 3 rows and one probed: most rows get fewer than k candidates, and those are
    /// searched exactly, so the graph is complete and, there, exact.
    @Test func rowsWithTooFewCandidatesAreSearchedExactly() throws {
        let rows = try Self.clustered(count: 200, dimension: 8, clusters: 4, seed: 4)
        let result = try ApproximateKNN(factory: "IVF64,Flat", nprobe: 1, trainingRows: 200).build(rows, k: 10, blockRows: 50)
        let exact = try ExactKNN.search(rows, k: 10)
        #expect(!result.exactFallbackRows.isEmpty)
        for row in result.exactFallbackRows {
            #expect(result.graph.neighbors[(row * 10)..<(row * 10 + 10)] == exact.neighbors[(row * 10)..<(row * 10 + 10)], "row \(row)")
        }
        #expect(result.graph.neighbors.allSatisfy { (0..<200).contains($0) })
    }

    @Test func trainingSampleIsDistinctSortedAndSeeded() {
        let a = ApproximateKNN.sample(count: 1000, size: 100, seed: 5)
        #expect(a.count == 100 && Set(a).count == 100 && a == a.sorted() && a.allSatisfy { (0..<1000).contains($0) })
        #expect(a == ApproximateKNN.sample(count: 1000, size: 100, seed: 5) && a != ApproximateKNN.sample(count: 1000, size: 100, seed: 6))
        #expect(ApproximateKNN.sample(count: 10, size: 50, seed: 1) == Array(0..<10))
    }

    /// `--shard i/n`: the shards of an exact self graph are the unsharded graph's rows, bit for bit, for
    /// shard edges inside tiles and across tiles, resident and streamed; the same for an IVF index.
    @Test func shardsAreTheRowsOfTheWholeGraph() throws {
        let rows = try Self.clustered(count: 530, dimension: 12, clusters: 9, seed: 6)
        let whole = try ExactKNN.search(rows, k: 7, tile: 64)
        for count in [1, 3, 7] {
            var neighbors: [Int32] = [], similarities: [Float] = []
            for index in 0..<count {
                let part = (index * 530 / count)..<((index + 1) * 530 / count)
                let shard = try ExactKNN.search(rows, k: 7, tile: 64, shard: part)
                #expect(shard.count == part.count)
                neighbors += shard.neighbors
                similarities += shard.similarities
            }
            #expect(neighbors == whole.neighbors && similarities == whole.similarities, "\(count) shards")
        }
        let ivf = ApproximateKNN(factory: "IVF8,Flat", nprobe: 2, trainingRows: 530)
        let wholeIVF = try ivf.build(rows, k: 7, blockRows: 100).graph
        let secondHalf = try ivf.build(rows, k: 7, blockRows: 100, searched: 265..<530).graph
        #expect(secondHalf.neighbors == Array(wholeIVF.neighbors[(265 * 7)...]))
    }
}
