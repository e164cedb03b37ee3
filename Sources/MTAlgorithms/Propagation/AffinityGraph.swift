import Foundation
import MTCore

/// The symmetric affinity matrix W of a kNN graph and its degrees, as the reference's normalised cut
/// builds it.
///
/// Each listed neighbour j of i with similarity s gets w = exp(-(1 - s) / sigma) (the reference writes
/// d = (1 - s) / 2, w = exp(-2d / 0.2); sigma defaults to 0.2). The reference's K-lists come from a
/// top-K over all points and so include the point itself with s = 1: a self-loop of weight 1 that counts
/// in the degree. With `selfLoop` (the default) every row gets that loop, whether or not the graph file
/// lists the point as its own neighbour (`mt-knn graph` excludes it by default); without it, listed self
/// entries are dropped too. W = (W0 + W0^T) / 2, degrees d = row sums of W (self-loop included).
public struct AffinityGraph: Sendable {
    public var weights: SparseMatrix
    public var degrees: [Double]
    public var sigma: Double
    public var selfLoop: Bool

    public var count: Int { weights.rows }

    /// - Throws: `MTError.badInput` naming `path` when the graph is not square (queries against another
    ///   set) or leaves a sample with zero degree.
    public init(graph: KNNGraph, path: String, sigma: Double = 0.2, selfLoop: Bool = true) throws {
        guard graph.databaseSize == graph.count else {
            throw MTError.badInput(path, "/neighbors", "expected a graph of a set against itself (N=\(graph.count)), found database_size \(graph.databaseSize)")
        }
        guard sigma > 0, sigma.isFinite else { throw MTError.usage("--sigma must be positive, found \(sigma)") }
        // Both halves of (W0 + W0^T) / 2: each direction of an edge gets half its weight.
        weights = graph.symmetricWeights(selfLoop: selfLoop ? 1 : nil) { s in Float(0.5 * exp(-(1 - Double(s)) / sigma)) }
        degrees = weights.rowSums()
        if let isolated = degrees.firstIndex(where: { !($0 > 0) }) {
            throw MTError.badInput(path, "/neighbors", "sample \(isolated) has no neighbour (degree 0); keep the self-loop or use a larger k")
        }
        self.sigma = sigma
        self.selfLoop = selfLoop
    }

    /// The connected components of W: a component id per sample (numbered by their smallest sample)
    /// and the component count.
    public func components() -> (ids: [Int32], count: Int) {
        var ids = [Int32](repeating: -1, count: count)
        var components = 0
        var stack: [Int] = []
        for seed in 0..<count where ids[seed] < 0 {
            ids[seed] = Int32(components)
            stack.append(seed)
            while let node = stack.popLast() {
                for entry in weights.rowStart[node]..<weights.rowStart[node + 1] {
                    let next = Int(weights.columnIndex[entry])
                    if ids[next] < 0 {
                        ids[next] = Int32(components)
                        stack.append(next)
                    }
                }
            }
            components += 1
        }
        return (ids, components)
    }

    /// The exact eigenvectors of A for eigenvalue 1, one per connected component: D^1/2 1_c, normalised,
    /// as the columns of a row-major [N, min(components, limit)] matrix (any `limit` of them span part of
    /// the same eigenspace). Handing them to the solver makes a disconnected graph (eigenvalue 1 repeated
    /// once per component) as easy as a connected one.
    public func componentEigenvectors(limit: Int) -> (vectors: [Float], count: Int) {
        let (ids, found) = components()
        let components = min(found, limit)
        var mass = [Double](repeating: 0, count: components)
        for (node, id) in ids.enumerated() where id < components { mass[Int(id)] += degrees[node] }
        var vectors = [Float](repeating: 0, count: count * components)
        for (node, id) in ids.enumerated() where id < components {
            vectors[node * components + Int(id)] = Float((degrees[node] / mass[Int(id)]).squareRoot())
        }
        return (vectors, components)
    }

    /// A = D^-1/2 W D^-1/2, whose largest eigenpairs are the smallest of the normalised Laplacian I - A.
    public func normalizedAffinity() -> SparseMatrix {
        weights.normalized(degrees: degrees)
    }
}

extension KNNGraph {
    /// W0 + W0^T for a graph of a set against itself, as a sparse [N, N] matrix: every listed edge
    /// i -> j with j != i (listed self entries are dropped) puts weight(s_ij) at (i, j) and at (j, i), and
    /// an edge listed both ways sums. With `selfLoop`, every row also gets that value once at (i, i).
    /// Triplets go row by row, the self-loop first, which fixes the order of the CSR build's Double sums.
    func symmetricWeights(selfLoop: Float? = nil, _ weight: (Float) -> Float) -> SparseMatrix {
        let n = count
        var rows: [Int32] = [], columns: [Int32] = [], values: [Float] = []
        let capacity = 2 * n * k + (selfLoop == nil ? 0 : n)
        rows.reserveCapacity(capacity)
        columns.reserveCapacity(capacity)
        values.reserveCapacity(capacity)
        for i in 0..<n {
            if let selfLoop {
                rows.append(Int32(i)); columns.append(Int32(i)); values.append(selfLoop)
            }
            for e in (i * k)..<((i + 1) * k) where Int(neighbors[e]) != i {
                let j = neighbors[e], w = weight(similarities[e])
                rows.append(Int32(i)); columns.append(j); values.append(w)
                rows.append(j); columns.append(Int32(i)); values.append(w)
            }
        }
        return SparseMatrix(rows: n, columns: n, rowIndex: rows, columnIndex: columns, values: values)
    }
}

extension SparseMatrix {
    /// D^-1/2 W D^-1/2 for the degrees d of W; a row of degree 0 (no edges) stays zero.
    func normalized(degrees: [Double]) -> SparseMatrix {
        let scale = degrees.map { $0 > 0 ? 1 / $0.squareRoot() : 0 }
        return scaled(left: scale, right: scale)
    }
}
