import Foundation
import MTCore
import MTStorage
import Testing
import TestSupport

/// Runs the built mt-ncut on graph and split files written here, and on bad inputs.
@Suite struct NcutToolTests {
    /// 6000 samples in 4 groups of 1500; each lists 8 random members of its own group (similarity
    /// 0.6-0.95), and every 5th sample one of the next group, so the graph is connected. Large enough that
    /// the solver's row chunks split across threads.
    static func writeGraph(_ path: String) throws -> [Int32] {
        let n = 6000, k = 8, groups = 4
        var generator = SeededGenerator(seed: 11)
        var neighbors: [Int32] = [], similarities: [Float] = []
        for i in 0..<n {
            let group = i % groups
            for slot in 0..<k {
                var j = Int(generator.next() % UInt64(n / groups)) * groups + group
                if slot == 0, i % 10 < 2 { j = (j + 1) % n }
                if j == i { j = (j + groups) % n }
                neighbors.append(Int32(j))
                similarities.append(0.6 + 0.35 * generator.nextUniform())
            }
        }
        try KNNGraph(neighbors: neighbors, similarities: similarities, count: n, k: k, databaseSize: n, selfIncluded: false)
            .write(path, inputs: [])
        return (0..<n).map { Int32($0 % groups) }
    }

    @Test func eigenThenPropagate() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let truth = try Self.writeGraph(dir + "/graph.h5")
            var files: [GraphEigenpairs] = []
            for threads in ["1", "2"] {
                let run = try TestSupport.run("mt-ncut", ["eigen", dir + "/graph.h5", "-n", "12", "--threads", threads,
                                                          "-o", dir + "/eigen\(threads).h5"])
                #expect(run.status == 0, "\(run.stderr)")
                #expect(run.stderr.contains("eigen: 12 pairs of 6000 samples"))
                files.append(try GraphEigenpairs.read(dir + "/eigen\(threads).h5"))
            }
            // Bit-identical for 1 and 2 threads. (Checked here, one solve per process: OpenBLAS's thread
            // count is process-global, so concurrent unit tests could not isolate it.)
            let eigen = files[0]
            #expect(files[1].eigenvectors == eigen.eigenvectors && files[1].eigenvalues == eigen.eigenvalues)
            #expect(eigen.pairCount == 12 && eigen.count == 6000 && eigen.eigenvalues == eigen.eigenvalues.sorted())
            #expect(abs(eigen.eigenvalues[0]) < 1e-5 && eigen.eigenvalues[4] > 1e-3)
            #expect(zip(eigen.residuals, eigen.eigenvalues).allSatisfy { $0 <= 1e-3 * (1 - $1) })
            #expect(eigen.parameters["sigma"] == .double(0.2) && eigen.parameters["self_loop"] == .int(1))
            #expect(eigen.parameters["k"] == .int(8) && eigen.parameters["converged"] == .int(1))
            let file = try H5File.open(dir + "/eigen1.h5")
            #expect(file.stringAttribute("mt_kind") == "eigen")
            #expect(try file.info("/eigenvectors").shape == [6000, 12])

            let labeled = [0, 1, 2, 3, 4, 5, 6, 7]
            try Split(labeled: labeled, labeledLabels: labeled.map { truth[$0] }, unlabeled: Array(8..<6000),
                      sampleCount: 6000, classCount: 4).write(dir + "/split.h5", inputs: [])
            let run = try TestSupport.run("mt-ncut", ["propagate", dir + "/eigen1.h5", "--split", dir + "/split.h5", "-o", dir + "/pseudo.h5"])
            #expect(run.status == 0, "\(run.stderr)")
            let pseudo = try PseudoLabels.read(dir + "/pseudo.h5")
            #expect(pseudo.method == "ncut" && pseudo.classCount == 4 && pseudo.weights != nil)
            #expect(pseudo.labeled == labeled && pseudo.parameters["pairs"] == .int(11))
            let correct = (8..<6000).filter { pseudo.labels[$0] == truth[$0] }.count
            #expect(correct > 5900)
            #expect(pseudo.weights!.allSatisfy { $0 >= 0 && $0 <= 1 })

            // --prior: uniform keeps the (already balanced) labels; a skewed prior file moves class sizes
            // towards it; a labelled file's class frequencies are a prior too; bad files are refused.
            let uniform = try TestSupport.run("mt-ncut", ["propagate", dir + "/eigen1.h5", "--split", dir + "/split.h5", "--prior", "uniform",
                                                          "-o", dir + "/pseudo-uniform.h5"])
            #expect(uniform.status == 0 && uniform.stderr.contains("prior uniform (lambda 5.0, slack 0.1): class factors"), "\(uniform.stderr)")
            let balanced = try PseudoLabels.read(dir + "/pseudo-uniform.h5")
            #expect((8..<6000).filter { balanced.labels[$0] == truth[$0] }.count > 5900)
            #expect(balanced.parameters["prior"] == .string("uniform") && balanced.parameters["prior_lambda"] == .double(5))
            try "# class weights\n0.55, 0.15\n0.15 0.15\n".write(toFile: dir + "/prior.txt", atomically: true, encoding: .utf8)
            let skewed = try TestSupport.run("mt-ncut", ["propagate", dir + "/eigen1.h5", "--split", dir + "/split.h5", "--prior", dir + "/prior.txt",
                                                         "--prior-lambda", "25", "-o", dir + "/pseudo-skewed.h5"])
            #expect(skewed.status == 0, "\(skewed.stderr)")
            let shifted = try PseudoLabels.read(dir + "/pseudo-skewed.h5")
            let zeros = (8..<6000).filter { shifted.labels[$0] == 0 }.count
            #expect(zeros > 2500, "class 0 got \(zeros) of 5992")
            #expect(shifted.parameters["prior"] == .string("given"))
            try Features(values: [Float](repeating: 0, count: 8), count: 8, dimension: 1, labels: [0, 0, 0, 0, 0, 1, 2, 3], model: "t", normalized: false)
                .write(dir + "/labelled.h5", inputs: [])
            let fromFile = try TestSupport.run("mt-ncut", ["propagate", dir + "/eigen1.h5", "--split", dir + "/split.h5", "--prior", dir + "/labelled.h5",
                                                           "-q", "-o", dir + "/pseudo-file.h5"])
            #expect(fromFile.status == 0, "\(fromFile.stderr)")
            #expect(try PseudoLabels.read(dir + "/pseudo-file.h5").parameters["prior_marginals"] == .doubles([0.625, 0.125, 0.125, 0.125]))
            try "0.5 0.5 0.5\n".write(toFile: dir + "/three.txt", atomically: true, encoding: .utf8)
            try "0.5 x\n".write(toFile: dir + "/word.txt", atomically: true, encoding: .utf8)
            for (file, message) in [("three.txt", "three.txt: expected 4 nonnegative class weights"), ("word.txt", "expected nonnegative class weights, found \"x\""),
                                    ("none.txt", "none.txt: expected a readable prior file")] {
                let run = try TestSupport.run("mt-ncut", ["propagate", dir + "/eigen1.h5", "--split", dir + "/split.h5", "--prior", dir + "/" + file,
                                                          "-o", dir + "/refused.h5"])
                #expect(run.status == 2 && run.stderr.contains(message) && run.stderr.split(separator: "\n").count == 1, "\(run.stderr)")
                #expect(!FileManager.default.fileExists(atPath: dir + "/refused.h5"))
            }
            #expect(TestSupport.files(in: dir).allSatisfy { !$0.hasPrefix(".") })
        }
    }

    @Test func badInputsFailWithOneLineAndNoOutput() throws {
        try TestSupport.withTemporaryDirectory { dir in
            _ = try Self.writeGraph(dir + "/graph.h5")
            try Features(values: [1, 0, 0, 1], count: 2, dimension: 2, labels: [0, 1], model: "t", normalized: true)
                .write(dir + "/features.h5", inputs: [])
            try KNNGraph(neighbors: [0, 1], similarities: [1, 0.5], count: 1, k: 2, databaseSize: 2, selfIncluded: false)
                .write(dir + "/queries.h5", inputs: [])
            try Split(labeled: [0], labeledLabels: [0], unlabeled: [1], sampleCount: 2, classCount: 2)
                .write(dir + "/small-split.h5", inputs: [])
            let cases: [([String], String)] = [
                (["eigen", dir + "/features.h5"], "expected mt_kind graph, found 'features'"),
                (["eigen", dir + "/queries.h5"], "/neighbors: expected a graph of a set against itself"),
                (["eigen", dir + "/missing.h5"], "no such file"),
                (["eigen", dir + "/graph.h5", "-n", "0"], "-n must be >= 1, got 0"),
                (["eigen", dir + "/graph.h5", "-n", "3", "--memory", "1K"], "more than --memory 1K; raise --memory or lower -n"),
                (["propagate", dir + "/graph.h5", "--split", dir + "/small-split.h5"], "expected mt_kind eigen, found 'graph'"),
            ]
            for (arguments, message) in cases {
                let run = try TestSupport.run("mt-ncut", arguments + ["-o", dir + "/out.h5"])
                #expect(run.status == 2, "\(arguments)")
                #expect(run.stderr.hasPrefix("mt-ncut: ") && run.stderr.contains(message), "\(run.stderr)")
                #expect(run.stderr.split(separator: "\n").count == 1)
                #expect(!FileManager.default.fileExists(atPath: dir + "/out.h5"))
            }
            let eigen = try TestSupport.run("mt-ncut", ["eigen", dir + "/graph.h5", "-n", "3", "-q", "-o", dir + "/eigen.h5"])
            #expect(eigen.status == 0 && eigen.stderr.isEmpty, "\(eigen.stderr)")
            let mismatch = try TestSupport.run("mt-ncut", ["propagate", dir + "/eigen.h5", "--split", dir + "/small-split.h5", "-o", dir + "/out.h5"])
            #expect(mismatch.status == 2 && mismatch.stderr.contains("split is for 2 samples, the other input has 6000"), "\(mismatch.stderr)")
            #expect(!FileManager.default.fileExists(atPath: dir + "/out.h5"))
            #expect(TestSupport.files(in: dir).allSatisfy { !$0.hasPrefix(".") })
        }
    }

    @Test func helpShowsAnExample() throws {
        for verb in ["eigen", "propagate"] {
            let run = try TestSupport.run("mt-ncut", [verb, "--help"])
            #expect(run.status == 0 && run.stdout.contains("Example:") && run.stdout.contains("mt-ncut \(verb) "))
        }
    }
}
