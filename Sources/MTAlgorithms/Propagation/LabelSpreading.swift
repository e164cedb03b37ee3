import Foundation
import MTCore

/// Label spreading on a kNN graph (Zhou et al., "Learning with local and global consistency", 2004):
/// the graph-diffusion alternative to kNN voting, as scikit-learn's `LabelSpreading(kernel='knn')`.
///
/// Affinity: each graph edge i -> j gets weight w = max(s_ij, 0)^gamma (gamma = 3 sharpens cosine
/// similarities as in Iscen et al. 2019; gamma = 0 gives scikit-learn's 0/1 connectivity), self-loops are
/// dropped and the graph is made symmetric, W = A + A^T. With degrees d = W 1 the normalised affinity is
/// S = D^-1/2 W D^-1/2, and F <- alpha S F + (1 - alpha) Y is iterated from F = Y (Y one-hot rows for the
/// labelled samples, zero rows otherwise) until the largest change of an entry is at most `tolerance`
/// times the largest entry, or `iterations` is reached. The fixed point is (1 - alpha)(I - alpha S)^-1 Y.
/// Rows of F, normalised to sum 1, are the class distributions; a sample no path reaches from a labelled
/// one gets the uniform distribution.
///
/// Each iteration is a sparse product computed row by row in parallel, so results do not depend on the
/// thread count.
public enum LabelSpreading {
    public static let defaultAlpha = 0.99
    public static let defaultIterations = 1000
    public static let defaultTolerance = 1e-4
    public static let defaultGamma = 3.0

    public struct Result {
        public var labels: PseudoLabels
        public var iterations: Int
        public var converged: Bool
        /// The prior's class factors, when one was applied.
        public var diagnostics = Diagnostics()
    }

    /// With a `prior`, each class's column of F is scaled by its factor (`PriorBalancing`): the class mass
    /// normalisation of Zhou et al. with Sinkhorn-chosen masses.
    public static func propagate(_ graph: KNNGraph, split: Split, alpha: Double = defaultAlpha,
                                 iterations: Int = defaultIterations, tolerance: Double = defaultTolerance,
                                 gamma: Double = defaultGamma, prior: PriorBalancing? = nil) throws -> Result {
        guard graph.databaseSize == graph.count else {
            throw MTError.usage("spread needs a graph of a set against itself, but this one searched \(graph.databaseSize) other rows (made with --queries)")
        }
        guard split.sampleCount == graph.count else {
            throw MTError.usage("the graph has \(graph.count) rows, but the split is for \(split.sampleCount) samples")
        }
        guard alpha > 0 && alpha < 1 else { throw MTError.usage("--alpha must be in (0, 1), got \(alpha)") }
        guard iterations >= 1 else { throw MTError.usage("--iterations must be at least 1, got \(iterations)") }
        guard tolerance >= 0 else { throw MTError.usage("--tolerance must not be negative, got \(tolerance)") }
        guard gamma >= 0 else { throw MTError.usage("--gamma must not be negative, got \(gamma)") }

        let n = graph.count, classes = split.classCount
        let affinity = normalizedAffinity(graph, gamma: gamma)
        // F rows are padded to a multiple of 8 classes: the sparse product then runs on SIMD8 blocks.
        let width = (classes + 7) / 8 * 8
        let seeds = UnsafeMutablePointer<Float>.allocate(capacity: n * width)
        var current = UnsafeMutablePointer<Float>.allocate(capacity: n * width)
        var next = UnsafeMutablePointer<Float>.allocate(capacity: n * width)
        let chunks = max(1, Parallel.threadCount)
        let changes = UnsafeMutablePointer<Float>.allocate(capacity: 2 * chunks)
        defer { [seeds, current, next, changes].forEach { $0.deallocate() } }
        seeds.initialize(repeating: 0, count: n * width)
        for (sample, label) in zip(split.labeled, split.labeledLabels) { seeds[sample * width + Int(label)] = 1 }
        current.update(from: seeds, count: n * width)

        var done = 0
        var converged = false
        let progress = ProgressMeter("spread", total: iterations, unit: "iterations")
        let a = Float(alpha), b = Float(1 - alpha)
        while done < iterations && !converged {
            affinity.multiply(current, ldx: width, into: next, ldy: width, width: width)
            let f = UnsafePointer(current), out = next
            Parallel.forEachChunk(chunks) { chunkRange in
                for chunk in chunkRange {
                    var change: Float = 0, top: Float = 0
                    for at in (chunk * n / chunks * width)..<((chunk + 1) * n / chunks * width) {
                        let value = a * out[at] + b * seeds[at]
                        change = max(change, abs(value - f[at]))
                        top = max(top, value)
                        out[at] = value
                    }
                    changes[2 * chunk] = change
                    changes[2 * chunk + 1] = top
                }
            }
            swap(&current, &next)
            done += 1
            progress.advance()
            let change = (0..<chunks).map { changes[2 * $0] }.max()!, top = (0..<chunks).map { changes[2 * $0 + 1] }.max()!
            converged = Double(change) <= tolerance * Double(top)
        }
        progress.finish()

        var distributions = [Float](repeating: 0, count: n * classes)
        for row in 0..<n {
            let total = (0..<classes).reduce(Float(0)) { $0 + current[row * width + $1] }
            for c in 0..<classes {
                distributions[row * classes + c] = total > 0 ? current[row * width + c] / total : 1 / Float(classes)
            }
        }
        var labels = PseudoLabels.fromDistributions(
            distributions, count: n, split: split, method: "spread",
            parameters: ["alpha": .double(alpha), "gamma": .double(gamma), "max_iterations": .int(iterations),
                         "tolerance": .double(tolerance), "iterations": .int(done), "converged": .int(converged ? 1 : 0),
                         "k": .int(graph.k)])
        var diagnostics = Diagnostics()
        if let prior {
            let balanced = try prior.apply(to: labels)
            labels = balanced.labels
            diagnostics = balanced.diagnostics
        }
        let neighbours = split.labeled.map { graph.neighbours(of: $0, excluding: $0) }
        diagnostics.append(labels.neighbourhoodDiagnostics(neighbours: neighbours, space: "graph edges"))
        return Result(labels: labels, iterations: done, converged: converged, diagnostics: diagnostics)
    }

    /// S = D^-1/2 (A + A^T) D^-1/2 with A[i, j] = max(s_ij, 0)^gamma for the graph's edges (self-loops
    /// dropped); an entry listed both ways is summed. Samples without edges keep zero rows.
    static func normalizedAffinity(_ graph: KNNGraph, gamma: Double) -> SparseMatrix {
        let weights = graph.symmetricWeights { s in gamma == 0 ? 1 : Float(pow(Double(max(s, 0)), gamma)) }
        return weights.normalized(degrees: weights.rowSums())
    }
}
