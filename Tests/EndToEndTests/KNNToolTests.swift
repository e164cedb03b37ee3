import Foundation
import MTCore
import MTStorage
import Testing
import TestSupport

/// Runs the built mt-knn on small files written here and reads its artifacts back; bad inputs must fail
/// with exit status 2, one line on stderr and no output file.
@Suite struct KNNToolTests {
    /// Two clusters around (1, 0) and (0, 1), eight points each, rows normalised; samples 0 and 8 labelled.
    func writeInputs(_ dir: String) throws {
        var values: [Float] = []
        for i in 0..<16 {
            let t = Float(i % 8) * 0.04
            values += i < 8 ? [1, t] : [t, 1]
        }
        RowOps.normalize(&values, rows: 16, dimension: 2)
        let truth = (0..<16).map { Int32($0 < 8 ? 0 : 1) }
        try Features(values: values, count: 16, dimension: 2, labels: truth, model: "test", normalized: true)
            .write(dir + "/f.h5", inputs: [])
        try Features(values: Array(values[0..<6]), count: 3, dimension: 2, labels: [0, 0, 0], model: "test", normalized: true)
            .write(dir + "/q.h5", inputs: [])
        try Split(labeled: [0, 8], labeledLabels: [0, 1], unlabeled: Array(1..<8) + Array(9..<16), sampleCount: 16, classCount: 2)
            .write(dir + "/split.h5", inputs: [])
    }

    @Test func graphPropagateAndSpread() throws {
        try TestSupport.withTemporaryDirectory { dir in
            try writeInputs(dir)
            let graph = try TestSupport.run("mt-knn", ["graph", dir + "/f.h5", "-k", "3", "-o", dir + "/g.h5", "--threads", "2"])
            #expect(graph.status == 0, "\(graph.stderr)")
            let knn = try KNNGraph.read(dir + "/g.h5")
            #expect(knn.count == 16 && knn.k == 3 && knn.databaseSize == 16 && !knn.selfIncluded)
            // Along each arc the nearest points are the index neighbours; row 0's are 1, 2, 3.
            #expect(knn.neighbors[0..<3] == [1, 2, 3])
            #expect(knn.neighbors.enumerated().allSatisfy { ($0.offset / 3 < 8) == ($0.element < 8) })
            let file = try H5File.open(dir + "/g.h5")
            #expect(file.stringAttribute("mt_kind") == "graph" && file.stringAttribute("metric") == "inner_product")
            #expect(file.intAttribute("k") == 3)

            let queries = try TestSupport.run("mt-knn", ["graph", dir + "/f.h5", "-k", "2", "--queries", dir + "/q.h5", "-o", dir + "/qg.h5"])
            #expect(queries.status == 0, "\(queries.stderr)")
            let queryGraph = try KNNGraph.read(dir + "/qg.h5")
            #expect(queryGraph.count == 3 && queryGraph.databaseSize == 16)
            // Query i is sample i itself, found first (ties with other samples broken by lower index).
            #expect(queryGraph.neighbors[0] == 0 && queryGraph.neighbors[2] == 1 && queryGraph.neighbors[4] == 2)

            let vote = try TestSupport.run("mt-knn", ["propagate", dir + "/f.h5", "--split", dir + "/split.h5", "-o", dir + "/knn.h5"])
            #expect(vote.status == 0, "\(vote.stderr)")
            let voted = try PseudoLabels.read(dir + "/knn.h5")
            #expect(voted.labels == (0..<16).map { Int32($0 < 8 ? 0 : 1) })
            #expect(voted.method == "knn" && voted.parameters["k"] == .int(2) && voted.labeled == [0, 8])
            #expect(voted.confidence[0] == 1 && voted.confidence[3] > 0.5)

            let spread = try TestSupport.run("mt-knn", ["spread", dir + "/g.h5", "--split", dir + "/split.h5", "--alpha", "0.9",
                                                        "-o", dir + "/spread.h5"])
            #expect(spread.status == 0, "\(spread.stderr)")
            let spreadLabels = try PseudoLabels.read(dir + "/spread.h5")
            #expect(spreadLabels.labels == voted.labels && spreadLabels.method == "spread")
            #expect(spreadLabels.parameters["alpha"] == .double(0.9))
            #expect(try H5File.open(dir + "/spread.h5").attribute("mt_inputs") == .strings([dir + "/g.h5", dir + "/split.h5"]))
            #expect(TestSupport.files(in: dir).allSatisfy { !$0.hasPrefix(".") })
        }
    }

    /// `--index`: faiss's flat index finds the exact neighbours, and the graph records the index and the
    /// recall it measured against exact search; faiss's refusals are one line, exit 2, no output.
    @Test func approximateGraphRecordsItsIndexAndRecall() throws {
        try TestSupport.withTemporaryDirectory { dir in
            try writeInputs(dir)
            let exact = try TestSupport.run("mt-knn", ["graph", dir + "/f.h5", "-k", "3", "-q", "-o", dir + "/g.h5"])
            let approximate = try TestSupport.run("mt-knn", ["graph", dir + "/f.h5", "-k", "3", "--index", "Flat", "--recall-sample", "16",
                                                             "-o", dir + "/a.h5"])
            #expect(exact.status == 0 && approximate.status == 0, "\(approximate.stderr)")
            #expect(approximate.stderr.contains("recall@3 against exact search on 16 random rows: 1.0000"), "\(approximate.stderr)")
            let (a, e) = (try KNNGraph.read(dir + "/a.h5"), try KNNGraph.read(dir + "/g.h5"))
            #expect((0..<16).allSatisfy { Set(a.neighbors[($0 * 3)..<($0 * 3 + 3)]) == Set(e.neighbors[($0 * 3)..<($0 * 3 + 3)]) })
            let file = try H5File.open(dir + "/a.h5")
            #expect(file.stringAttribute("index") == "Flat" && file.attribute("recall") == .double(1) && file.intAttribute("recall_sample") == 16)
            try expectRefused("mt-knn", ["graph", dir + "/f.h5", "-k", "3", "--index", "IVF4,Fat"], in: dir, output: dir + "/out.h5",
                              mentioning: "--index IVF4,Fat: faiss: 'index_ivf' failed: could not parse code description Fat")
            try expectRefused("mt-knn", ["graph", dir + "/f.h5", "-k", "3", "--nprobe", "2"], in: dir, output: dir + "/out.h5",
                              mentioning: "--nprobe and --ef go with --index")
        }
    }

    /// Shards through the built tool: merged, the graph equals the unsharded one array for array; a
    /// missing, doubled or foreign shard is refused by merge.
    @Test func shardsMergeIntoTheUnshardedGraph() throws {
        try TestSupport.withTemporaryDirectory { dir in
            try writeInputs(dir)
            #expect(try TestSupport.run("mt-knn", ["graph", dir + "/f.h5", "-k", "3", "-q", "-o", dir + "/g.h5"]).status == 0)
            for i in 0..<3 {
                let shard = try TestSupport.run("mt-knn", ["graph", dir + "/f.h5", "-k", "3", "--shard", "\(i)/3", "-q", "-o", dir + "/s\(i).h5"])
                #expect(shard.status == 0, "\(shard.stderr)")
            }
            #expect(try TestSupport.run("mt-knn", ["graph", dir + "/f.h5", "-k", "2", "--shard", "1/3", "-q", "-o", dir + "/other.h5"]).status == 0)
            let merged = try TestSupport.run("mt-knn", ["merge", dir + "/s2.h5", dir + "/s0.h5", dir + "/s1.h5", "-q", "-o", dir + "/m.h5"])
            #expect(merged.status == 0, "\(merged.stderr)")
            let (m, g) = (try KNNGraph.read(dir + "/m.h5"), try KNNGraph.read(dir + "/g.h5"))
            #expect(m.neighbors == g.neighbors && m.similarities == g.similarities && m.count == 16)
            try expectRefused("mt-knn", ["merge", dir + "/s0.h5", dir + "/s2.h5"], in: dir, output: dir + "/out.h5",
                              mentioning: "shards 1/3 of 'mt-knn graph \(dir)/f.h5 -k 3' are missing")
            try expectRefused("mt-knn", ["merge", dir + "/s0.h5", dir + "/s1.h5", dir + "/s1.h5", dir + "/s2.h5"], in: dir, output: dir + "/out.h5",
                              mentioning: "shard 1/3 given twice")
            try expectRefused("mt-knn", ["merge", dir + "/s0.h5", dir + "/other.h5", dir + "/s2.h5"], in: dir, output: dir + "/out.h5",
                              mentioning: "shard of another run: 'mt-knn graph \(dir)/f.h5 -k 2'")
            try expectRefused("mt-knn", ["merge", dir + "/g.h5"], in: dir, output: dir + "/out.h5", mentioning: "found a whole graph")
            try expectRefused("mt-knn", ["graph", dir + "/f.h5", "-k", "3", "--shard", "3/3"], in: dir, output: dir + "/out.h5",
                              mentioning: "--shard")
        }
    }

    @Test func badInputsAreRefused() throws {
        try TestSupport.withTemporaryDirectory { dir in
            try writeInputs(dir)
            let other = try H5File.create(dir + "/other.h5")
            try other.write("/embedding", [Float](repeating: 0, count: 4), shape: [2, 2])
            other.close()
            try expectRefused("mt-knn", ["graph", dir + "/split.h5", "-k", "2"], in: dir, output: dir + "/out.h5", mentioning: "expected mt_kind features")
            try expectRefused("mt-knn", ["graph", dir + "/other.h5", "-k", "1"], in: dir, output: dir + "/out.h5", mentioning: "/features: missing dataset")
            try expectRefused("mt-knn", ["graph", dir + "/missing.h5", "-k", "1"], in: dir, output: dir + "/out.h5", mentioning: "no such file")
            try expectRefused("mt-knn", ["graph", dir + "/f.h5", "-k", "16"], in: dir, output: dir + "/out.h5", mentioning: "k must be below N")
            try expectRefused("mt-knn", ["graph", dir + "/f.h5", "-k", "2", "--memory", "1K"], in: dir, output: dir + "/out.h5", mentioning: "too small")
            try expectRefused("mt-knn", ["propagate", dir + "/f.h5", "--split", dir + "/f.h5"], in: dir, output: dir + "/out.h5", mentioning: "expected mt_kind split")
            try expectRefused("mt-knn", ["propagate", dir + "/q.h5", "--split", dir + "/split.h5"], in: dir, output: dir + "/out.h5", mentioning: "split is for 16 samples")
            try expectRefused("mt-knn", ["spread", dir + "/f.h5", "--split", dir + "/split.h5"], in: dir, output: dir + "/out.h5", mentioning: "expected mt_kind graph")
            let queries = try TestSupport.run("mt-knn", ["graph", dir + "/f.h5", "-k", "2", "--queries", dir + "/q.h5", "-o", dir + "/qg.h5"])
            #expect(queries.status == 0)
            try expectRefused("mt-knn", ["spread", dir + "/qg.h5", "--split", dir + "/split.h5"], in: dir, output: dir + "/out.h5", mentioning: "made with --queries")
        }
    }
}
