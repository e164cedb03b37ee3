import CBLAS
import Foundation
import TestSupport
import Testing
@testable import MTCore
@testable import MTStorage
@testable import MTAlgorithms
@testable import MTNetwork
@testable import MTCommand

/// Small graphs with known structure, built here by brute force.
enum TestGraphs {
    /// `clusters` blobs of `perCluster` points on the unit sphere in `dimension` dimensions; with
    /// `separated`, the kNN lists never leave a blob (the graph has one component per blob).
    static func blobs(clusters: Int, perCluster: Int, dimension: Int = 8, k: Int, spread: Float = 0.3,
                      separated: Bool = false, seed: UInt64 = 1) -> KNNGraph {
        var generator = SeededGenerator(seed: seed)
        let n = clusters * perCluster
        var points = [Float](repeating: 0, count: n * dimension)
        for c in 0..<clusters {
            let center = (0..<dimension).map { _ in generator.nextNormal() }
            for p in 0..<perCluster {
                for d in 0..<dimension { points[(c * perCluster + p) * dimension + d] = center[d] + spread * generator.nextNormal() }
            }
        }
        RowOps.normalize(&points, rows: n, dimension: dimension)
        return bruteForce(points, count: n, dimension: dimension, k: k) { i, j in !separated || i / perCluster == j / perCluster }
    }

    /// The exact kNN graph by inner product (self excluded), restricted to pairs `allowed(i, j)`.
    static func bruteForce(_ points: [Float], count n: Int, dimension: Int, k: Int,
                           allowed: (Int, Int) -> Bool = { _, _ in true }) -> KNNGraph {
        var gram = [Float](repeating: 0, count: n * n)
        points.withUnsafeBufferPointer { p in
            gram.withUnsafeMutableBufferPointer { g in
                BLAS.gemm(p.baseAddress!, p.baseAddress!, g.baseAddress!, m: n, n: n, k: dimension, transposeB: true)
            }
        }
        var neighbors = [Int32](), similarities = [Float]()
        for i in 0..<n {
            // Insertion into a sorted top-k list: by decreasing similarity, ties by lower index.
            var best: [(Float, Int)] = []
            for j in 0..<n where j != i && allowed(i, j) {
                let s = gram[i * n + j]
                guard best.count < k || s > best[k - 1].0 else { continue }
                var slot = best.count
                while slot > 0, best[slot - 1].0 < s { slot -= 1 }
                best.insert((s, j), at: slot)
                if best.count > k { best.removeLast() }
            }
            neighbors += best.map { Int32($0.1) }
            similarities += best.map { $0.0 }
        }
        return KNNGraph(neighbors: neighbors, similarities: similarities, count: n, k: k, databaseSize: n, selfIncluded: false)
    }

    /// A cycle: every node lists its two ring neighbours with similarity `similarity`.
    static func cycle(_ n: Int, similarity: Float = 0.9) -> KNNGraph {
        let neighbors = (0..<n).flatMap { [Int32(($0 + 1) % n), Int32(($0 + n - 1) % n)] }
        return KNNGraph(neighbors: neighbors, similarities: [Float](repeating: similarity, count: 2 * n), count: n, k: 2,
                        databaseSize: n, selfIncluded: false)
    }

    /// All eigenvalues of a symmetric sparse matrix by dense LAPACK ssyevd, largest first.
    static func denseEigenvalues(_ matrix: SparseMatrix) -> [Float] {
        var a = matrix.dense()
        var w = [Float](repeating: 0, count: matrix.rows)
        let n = Int32(matrix.rows)
        let status = LAPACKE_ssyevd(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "N")), Int8(UInt8(ascii: "U")), n, &a, n, &w)
        precondition(status == 0)
        return w.reversed()
    }

    /// max |V^T V - I| over the columns of a row-major [n, k] matrix, in Double.
    static func orthonormalityError(_ v: [Float], rows n: Int, columns k: Int) -> Double {
        var worst = 0.0
        for a in 0..<k {
            for b in a..<k {
                var dot = 0.0
                for row in 0..<n { dot += Double(v[row * k + a]) * Double(v[row * k + b]) }
                worst = max(worst, abs(dot - (a == b ? 1 : 0)))
            }
        }
        return worst
    }
}

@Suite struct EigenTests {
    @Test func sparseProductsMatchDenseLoops() {
        var generator = SeededGenerator(seed: 3)
        let rows = 37, columns = 29
        var r: [Int32] = [], c: [Int32] = [], values: [Float] = []
        for _ in 0..<300 {
            r.append(Int32(generator.next() % UInt64(rows)))
            c.append(Int32(generator.next() % UInt64(columns)))
            values.append(generator.nextNormal())
        }
        let matrix = SparseMatrix(rows: rows, columns: columns, rowIndex: r, columnIndex: c, values: values)
        #expect(matrix.nonzeroCount < 300)  // duplicates were merged
        for width in [1, 5, 16] {
            let ldx = width + 3
            let x = (0..<(columns * ldx)).map { _ in generator.nextNormal() }
            var y = [Float](repeating: .nan, count: rows * width)
            x.withUnsafeBufferPointer { xs in
                y.withUnsafeMutableBufferPointer { ys in matrix.multiply(xs.baseAddress!, ldx: ldx, into: ys.baseAddress!, ldy: width, width: width) }
            }
            for row in 0..<rows {
                for v in 0..<width {
                    var expected = 0.0
                    for (t, value) in values.enumerated() where Int(r[t]) == row {
                        expected += Double(value) * Double(x[Int(c[t]) * ldx + v])
                    }
                    #expect(abs(Double(y[row * width + v]) - expected) < 1e-4)
                }
            }
        }
    }

    @Test func affinityFollowsTheReferenceFormula() throws {
        // 0 lists 1 (s = 0.9) and 2 (s = 0.5); 1 lists 0 (s = 0.9) and itself; 2 lists 1 (s = 0.7) and 0 (s = 0.5).
        let graph = KNNGraph(neighbors: [1, 2, 0, 1, 1, 0], similarities: [0.9, 0.5, 0.9, 1, 0.7, 0.5], count: 3, k: 2,
                             databaseSize: 3, selfIncluded: true)
        let w = { (s: Double) in exp(-(1 - s) / 0.2) }
        let expected: [Double] = [1, w(0.9), w(0.5),
                                  w(0.9), 1, w(0.7) / 2,
                                  w(0.5), w(0.7) / 2, 1]
        let affinity = try AffinityGraph(graph: graph, path: "g.h5")
        for (found, want) in zip(affinity.weights.dense(), expected) { #expect(abs(Double(found) - want) < 1e-6) }
        for i in 0..<3 {
            #expect(abs(affinity.degrees[i] - (0..<3).reduce(0) { $0 + expected[i * 3 + $1] }) < 1e-6)
        }
        let bare = try AffinityGraph(graph: graph, path: "g.h5", selfLoop: false)
        #expect(bare.weights.dense()[0] == 0 && bare.weights.dense()[4] == 0)
        #expect(abs(Double(bare.weights.dense()[1]) - w(0.9)) < 1e-6)

        let queries = KNNGraph(neighbors: [0, 1], similarities: [1, 1], count: 1, k: 2, databaseSize: 2, selfIncluded: false)
        #expect(throws: MTError.self) { try AffinityGraph(graph: queries, path: "q.h5") }
    }

    @Test func eigenpairsMatchDenseLapack() throws {
        let graph = TestGraphs.blobs(clusters: 6, perCluster: 60, k: 6)
        let a = try! AffinityGraph(graph: graph, path: "g.h5").normalizedAffinity()
        let solver = SymmetricEigensolver(count: 24, tolerance: 1e-5, blockSize: 4, basisSize: 64, maxRestarts: 2000)
        let pairs = try solver.largest(of: a)
        let dense = TestGraphs.denseEigenvalues(a)
        #expect(pairs.converged && pairs.restarts > 0)  // the Krylov path, restarted
        for i in 0..<24 { #expect(abs(pairs.values[i] - dense[i]) < 1e-4, "pair \(i)") }
        #expect(pairs.residuals.allSatisfy { $0 < 2e-5 })
        #expect(TestGraphs.orthonormalityError(pairs.vectors, rows: 360, columns: 24) < 1e-4)
    }

    @Test func disconnectedGraphGetsOneZeroPerComponent() throws {
        let graph = TestGraphs.blobs(clusters: 5, perCluster: 70, k: 5, separated: true)
        let affinity = try AffinityGraph(graph: graph, path: "g.h5")
        #expect(affinity.components().count == 5)
        let components = affinity.componentEigenvectors(limit: 12)
        let a = affinity.normalizedAffinity()
        let solver = SymmetricEigensolver(count: 12, tolerance: 1e-5, blockSize: 2, basisSize: 48, maxRestarts: 2000)
        let pairs = try solver.largest(of: a, known: KnownEigenvectors(vectors: components.vectors, count: 5, value: 1))
        let dense = TestGraphs.denseEigenvalues(a)
        #expect(dense[4] > 0.9999 && dense[5] < 0.9999)
        for i in 0..<12 { #expect(abs(pairs.values[i] - dense[i]) < 1e-4, "pair \(i)") }
        #expect(pairs.residuals.allSatisfy { $0 < 2e-5 })
        #expect(TestGraphs.orthonormalityError(pairs.vectors, rows: 350, columns: 12) < 1e-4)

        // Fewer pairs than components: the component vectors themselves.
        let few = try SymmetricEigensolver(count: 3).largest(of: a, known: KnownEigenvectors(vectors: components.vectors, count: 5, value: 1))
        #expect(few.values.allSatisfy { abs($0 - 1) < 1e-5 })
    }

    @Test func repeatedEigenvaluesOfACycle() throws {
        // Eigenvalues (1 + 2w cos(2 pi j / n)) / (1 + 2w): 1 once, then pairs j, n - j.
        let n = 240
        let a = try AffinityGraph(graph: TestGraphs.cycle(n), path: "c.h5").normalizedAffinity()
        let pairs = try SymmetricEigensolver(count: 9, tolerance: 1e-5, blockSize: 4, basisSize: 40, maxRestarts: 5000).largest(of: a)
        let w = exp(-(1 - 0.9) / 0.2)
        let exact = [0, 1, 1, 2, 2, 3, 3, 4, 4].map { (1 + 2 * w * cos(2 * Double.pi * Double($0) / Double(n))) / (1 + 2 * w) }
        let dense = TestGraphs.denseEigenvalues(a)
        for i in 0..<9 {
            #expect(abs(Double(pairs.values[i]) - exact[i]) < 1e-5, "pair \(i)")
            #expect(abs(Double(dense[i]) - exact[i]) < 1e-5)
        }
        #expect(TestGraphs.orthonormalityError(pairs.vectors, rows: n, columns: 9) < 1e-4)
    }

    @Test func eigenFileRoundTrips() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let pairs = GraphEigenpairs(eigenvalues: [0, 0.5], eigenvectors: [0.6, 0.8, 0.8, -0.6], degrees: [2, 3],
                                        residuals: [1e-6, 2e-6], count: 2, parameters: ["sigma": .double(0.2), "k": .int(20)])
            try pairs.write(dir + "/e.h5", inputs: ["g.h5"])
            let back = try GraphEigenpairs.read(dir + "/e.h5")
            #expect(back.eigenvalues == pairs.eigenvalues && back.eigenvectors == pairs.eigenvectors)
            #expect(back.degrees == pairs.degrees && back.residuals == pairs.residuals && back.pairCount == 2)
            #expect(back.parameters["sigma"] == .double(0.2) && back.parameters["k"] == .int(20))
            #expect(try H5File.open(dir + "/e.h5").stringAttribute("mt_kind") == "eigen")
        }
    }
}
