import Foundation
import MTCore

/// The paper's constrained (biased) normalised cut, after the reference's "nc" notebook, in two steps:
/// `eigenpairs` computes the smallest eigenpairs of the graph's normalised Laplacian once; `propagate`
/// turns them and a split into pseudo-labels in a fraction of a second.
public enum NormalizedCut {
    public struct EigenOptions: Sendable {
        public var count = 200
        public var sigma = 0.2
        public var selfLoop = true
        public var tolerance = 1e-3
        public var blockSize = 16
        public var basisSize: Int?
        public var maxRestarts = 300
        public var seed: UInt64 = 0

        public init() {}
    }

    /// Bytes `eigenpairs` holds at its peak for a graph of `samples` rows and `k` neighbours: the graph
    /// (N k x 8), the symmetric affinity's triplets and two CSR copies (weights and normalised, 2 N k + N
    /// entries of 12 and 8 bytes), the solver's float basis of `basis + 2 blocks` vectors plus the Ritz
    /// vectors kept at a restart and two block vectors, and the output pairs (N n floats). `mt-ncut eigen`
    /// checks it against `--memory` before starting.
    public static func memoryEstimate(samples: Int, k: Int, options: EigenOptions) -> Int {
        let n = samples, block = min(options.blockSize, max(1, n / 4))
        let basis = max(options.basisSize ?? max(5 * options.count / 2, options.count + 8 * block), options.count + 2 * block)
        let kept = min(basis - block, max(options.count + block, (options.count + basis) / 2))
        let entries = 2 * n * k + n
        let graph = n * k * 8
        let affinity = entries * 12 + 2 * (entries * 8 + (n + 1) * 8)
        let solver = n * (basis + 2 * block + kept + 2 * block) * 4
        let output = n * options.count * 4
        return graph + affinity + solver + output
    }

    /// The `count` smallest eigenpairs of L = I - D^-1/2 W D^-1/2 for `graph` (read from `source`, named
    /// in errors), computed as the largest of A = D^-1/2 W D^-1/2 (lambda = 1 - theta, same vectors and
    /// residuals): the top of A's spectrum is where Krylov methods converge fast, while asking for L's
    /// smallest without a shift-invert makes them crawl. The diagnostics note the components and the
    /// solve, and warn when it stopped before every pair converged.
    public static func eigenpairs(of graph: KNNGraph, source: String, options: EigenOptions) throws -> (eigen: GraphEigenpairs, diagnostics: Diagnostics) {
        var diagnostics = Diagnostics()
        let affinity = try AffinityGraph(graph: graph, path: source, sigma: options.sigma, selfLoop: options.selfLoop)
        guard options.count >= 1, options.count <= graph.count else {
            throw MTError.usage("-n must be between 1 and the number of samples (\(graph.count)), found \(options.count)")
        }
        // The sparse solver needs a basis of about 2.5 n vectors; beyond that only a dense solve (N^2
        // memory) is left, which is fine for small graphs only.
        guard graph.count <= 5000 || 5 * options.count / 2 + 3 * options.blockSize <= graph.count else {
            throw MTError.usage("-n \(options.count) is too large for \(graph.count) samples: at most \((graph.count - 3 * options.blockSize) * 2 / 5)")
        }
        guard options.tolerance > 0, options.blockSize >= 1, options.maxRestarts >= 0 else {
            throw MTError.usage("--tolerance must be positive, --block-size at least 1, --max-restarts at least 0")
        }
        let solver = SymmetricEigensolver(count: options.count, tolerance: options.tolerance, blockSize: options.blockSize,
                                          basisSize: options.basisSize, maxRestarts: options.maxRestarts, seed: options.seed)
        let progress = ProgressMeter("eigen", total: options.count, unit: "pairs")
        var shown = 0
        let components = affinity.componentEigenvectors(limit: options.count)
        if components.count > 1 {
            diagnostics.note("eigen: the graph has \(components.count)\(components.count == options.count ? "+" : "") connected components (eigenvalue 0 repeated)")
        }
        let known = KnownEigenvectors(vectors: components.vectors, count: components.count, value: 1)
        let pairs = try solver.largest(of: affinity.normalizedAffinity(), known: known) { restarts, converged, products in
            progress.advance(by: max(0, converged - shown), status: "restart \(restarts), converged \(converged)/\(options.count), \(products) products")
            shown = max(shown, converged)
        }
        let seconds = progress.finish()
        let worst = pairs.residuals.max() ?? 0
        if !pairs.converged {
            diagnostics.warn("eigen: stopped after \(pairs.restarts) restarts before every pair met --tolerance \(options.tolerance) (largest residual \(worst)); raise --max-restarts or the tolerance")
        }
        diagnostics.note(String(format: "eigen: %d pairs of %d samples in %.1f s (%d restarts, %d products), largest residual %.2e",
                            pairs.count, graph.count, seconds, pairs.restarts, pairs.products, worst))
        let parameters: [String: AttributeValue] = [
            "k": .int(graph.k), "sigma": .double(options.sigma), "self_loop": .int(options.selfLoop ? 1 : 0),
            "tolerance": .double(options.tolerance), "block_size": .int(options.blockSize), "seed": .int(Int(options.seed)),
            "restarts": .int(pairs.restarts), "products": .int(pairs.products), "converged": .int(pairs.converged ? 1 : 0),
        ]
        let eigen = GraphEigenpairs(eigenvalues: pairs.values.map { 1 - $0 }, eigenvectors: pairs.vectors,
                                    degrees: affinity.degrees.map(Float.init), residuals: pairs.residuals,
                                    count: graph.count, parameters: parameters)
        return (eigen, diagnostics)
    }

    public struct PropagateOptions: Sendable {
        /// The bias alpha of 1 / (lambda - alpha); the reference uses 0.
        public var alpha = 0.0
        /// T of the margin weight 1 - exp(-(top1 - top2) / T) and of softmax(logits * T).
        public var temperature = 1.0
        /// Leading pairs left out; nil: the pairs of eigenvalue 0, one per connected component (for a
        /// connected graph that is the trivial first pair the reference drops).
        public var skip: Int?
        /// Pairs used after the skipped ones (default: all in the file).
        public var pairs: Int?
        /// Class marginals to balance towards: a per-class bias log(f_c) / T added to the logits.
        public var prior: PriorBalancing?

        public init() {}
    }

    /// Denominators lambda - alpha are clamped at this, so that eigenvalues within float noise of alpha
    /// (the extra zeros of a disconnected graph) get a large weight of fixed sign instead of a random one.
    static let smallestDenominator = 1e-6

    /// Eigenvalues below this are the null space of L (float noise around 0).
    static let nullEigenvalue: Float = 1e-5

    /// The reference's biased normalised cut. Per class c, a prior of +1 on the labelled samples of c and
    /// -1 on the other labelled samples; pd = d (|p| + p) / 2, nd = d (|p| - p) / 2 with d the degrees,
    /// ratio = sum(pd) / sum(nd), prior = sqrt(pd / ratio) - sqrt(nd * ratio), columns L2-normalised;
    /// logits = V diag(1 / (lambda - alpha)) V^T prior, columns normalised and scaled by sqrt(N). Label =
    /// argmax, weight = 1 - exp(-(top1 - top2) / T), probabilities = softmax(logits * T). Labelled samples
    /// keep their label with probability 1 and weight 1. Computed in Double. With a prior, each class's
    /// logits are shifted by log(f_c) / T, f the prior's class factors for these probabilities (the
    /// weights and probabilities are then those of the shifted logits).
    public static func propagate(_ eigen: GraphEigenpairs, split: Split, splitPath: String,
                                 options: PropagateOptions) throws -> (labels: PseudoLabels, diagnostics: Diagnostics) {
        let n = eigen.count, classes = split.classCount, stored = eigen.pairCount
        // Each component's constant vector carries no class information; dividing by its ~0 eigenvalue
        // would let it swamp the rest, so all of them are left out, not only the first.
        let skip = options.skip ?? max(1, eigen.eigenvalues.prefix { $0 < nullEigenvalue }.count)
        guard skip >= 0, skip < stored else {
            throw MTError.usage("--skip must be between 0 and \(stored - 1) (the file has \(stored) pairs), found \(skip)")
        }
        let used = min(options.pairs ?? stored, stored - skip)
        guard used >= 1 else { throw MTError.usage("--pairs must be at least 1") }
        guard options.temperature > 0, options.temperature.isFinite else { throw MTError.usage("--temperature must be positive") }
        let columns = skip..<(skip + used)
        let smallest = columns.map { Double(eigen.eigenvalues[$0]) }.min()!
        guard options.alpha < smallest + smallestDenominator else {
            throw MTError.usage("--alpha must be below the smallest eigenvalue used (\(smallest)), found \(options.alpha)")
        }
        guard classes >= 2 else { throw MTError.badInput(splitPath, nil, "expected at least 2 classes, found \(classes)") }
        var present = [Bool](repeating: false, count: classes)
        for label in split.labeledLabels { present[Int(label)] = true }
        if let missing = present.firstIndex(of: false) {
            throw MTError.badInput(splitPath, "/labeled_labels", "expected a labelled sample of every class 0..<\(classes), found none of class \(missing)")
        }

        // The prior as the reference builds it: -1 on every labelled row, then +1 at its label.
        var given = [Int32](repeating: -1, count: n)
        for (index, label) in zip(split.labeled, split.labeledLabels) { given[index] = label }
        let labeledRows = (0..<n).filter { given[$0] >= 0 }
        var positive = [Double](repeating: 0, count: classes), negative = [Double](repeating: 0, count: classes)
        for row in labeledRows {
            for c in 0..<classes {
                if Int(given[row]) == c { positive[c] += Double(eigen.degrees[row]) } else { negative[c] += Double(eigen.degrees[row]) }
            }
        }
        let ratio = (0..<classes).map { positive[$0] / negative[$0] }
        var prior = [Double](repeating: 0, count: labeledRows.count * classes)
        for (slot, row) in labeledRows.enumerated() {
            let degree = Double(eigen.degrees[row])
            for c in 0..<classes {
                prior[slot * classes + c] = Int(given[row]) == c ? (degree / ratio[c]).squareRoot() : -(degree * ratio[c]).squareRoot()
            }
        }
        normalizeColumns(&prior, rows: labeledRows.count, columns: classes)

        // Z = diag(1 / (lambda - alpha)) V^T prior, over the labelled rows only (the prior is 0 elsewhere).
        var z = [Double](repeating: 0, count: used * classes)
        for (slot, row) in labeledRows.enumerated() {
            for (i, column) in columns.enumerated() {
                let vi = Double(eigen.eigenvectors[row * stored + column])
                for c in 0..<classes { z[i * classes + c] += vi * prior[slot * classes + c] }
            }
        }
        for (i, column) in columns.enumerated() {
            let scale = 1 / max(Double(eigen.eigenvalues[column]) - options.alpha, smallestDenominator)
            for c in 0..<classes { z[i * classes + c] *= scale }
        }
        // logits = V[:, columns] Z, row by row in a fixed order (the same sums for any thread count).
        var logits = [Double](repeating: 0, count: n * classes)
        logits.withUnsafeMutableBufferPointer { out in
            eigen.eigenvectors.withUnsafeBufferPointer { vectors in
                z.withUnsafeBufferPointer { z in
                    let (out, vectors, z, first) = (out.baseAddress!, vectors.baseAddress!, z.baseAddress!, columns.lowerBound)
                    Parallel.forEachChunk(n, minimumChunk: 1024) { rows in
                        for row in rows {
                            let target = out + row * classes, source = vectors + row * stored + first
                            for i in 0..<used {
                                let vi = Double(source[i]), zi = z + i * classes
                                for c in 0..<classes { target[c] += vi * zi[c] }
                            }
                        }
                    }
                }
            }
        }
        normalizeColumns(&logits, rows: n, columns: classes, scale: Double(n).squareRoot())
        var labels = pseudoLabels(logits: logits, given: given, split: split, classes: classes, options: options,
                                  parameters: eigen.parameters, skip: skip, used: used)
        var diagnostics = Diagnostics()
        if let prior = options.prior {
            let (factors, attributes, priorDiagnostics) = try prior.classFactors(labels)
            let bias = factors.map { log($0) / options.temperature }
            for row in 0..<n {
                for c in 0..<classes { logits[row * classes + c] += bias[c] }
            }
            labels = pseudoLabels(logits: logits, given: given, split: split, classes: classes, options: options,
                                  parameters: eigen.parameters, skip: skip, used: used)
            labels.parameters.merge(attributes) { _, new in new }
            diagnostics.append(priorDiagnostics)
        }
        let neighbours = try kernelNeighbours(eigen, columns: columns, alpha: options.alpha, of: split.labeled)
        diagnostics.append(labels.neighbourhoodDiagnostics(neighbours: neighbours, space: "by the cut's kernel"))
        return (labels, diagnostics)
    }

    /// The samples the cut ties most strongly to each of `samples`: the largest entries of its row of the
    /// kernel V diag(1 / (lambda - alpha)) V^T the logits are made of, found as the nearest rows by inner
    /// product (an exact kNN search) of the stored eigenvectors against queries V_j diag(w), w = 1 / (lambda -
    /// alpha) on the pairs used and 0 on the others, so the N x n eigenvectors are searched in place.
    static func kernelNeighbours(_ eigen: GraphEigenpairs, columns: Range<Int>, alpha: Double, of samples: [Int]) throws -> [[Int]] {
        let stored = eigen.pairCount
        var weight = [Float](repeating: 0, count: stored)
        for column in columns { weight[column] = Float(1 / max(Double(eigen.eigenvalues[column]) - alpha, smallestDenominator)) }
        var queries = [Float](repeating: 0, count: samples.count * stored)
        for (slot, sample) in samples.enumerated() {
            for column in columns { queries[slot * stored + column] = eigen.eigenvectors[sample * stored + column] * weight[column] }
        }
        let database = try RowMatrix(eigen.eigenvectors, count: eigen.count, dimension: stored, origin: "eigenvectors")
        let probe = try ExactKNN.search(RowMatrix(queries, count: samples.count, dimension: stored, origin: "eigenvectors"),
                                        database: database, k: min(PseudoLabels.neighbourhoodSize + 1, eigen.count))
        return samples.enumerated().map { probe.neighbours(of: $0.offset, excluding: $0.element) }
    }

    /// Labels, margin weights and softmax probabilities from the logits; labelled rows keep their label.
    private static func pseudoLabels(logits: [Double], given: [Int32], split: Split, classes: Int, options: PropagateOptions,
                                     parameters: [String: AttributeValue], skip: Int, used: Int) -> PseudoLabels {
        let n = given.count, t = options.temperature
        var probs = [Float](repeating: 0, count: n * classes)
        var labels = [Int32](repeating: 0, count: n), confidence = [Float](repeating: 0, count: n)
        var weights = [Float](repeating: 0, count: n)
        for row in 0..<n {
            let line = logits[(row * classes)..<((row + 1) * classes)]
            if given[row] >= 0 {
                labels[row] = given[row]
                probs[row * classes + Int(given[row])] = 1
                confidence[row] = 1
                weights[row] = 1
                continue
            }
            let best = line.withUnsafeBufferPointer { Argmax.of($0.baseAddress!, count: classes) }
            let top = line[line.startIndex + best]
            let second = (0..<classes).filter { $0 != best }.map { line[line.startIndex + $0] }.max()!
            let exps = line.map { exp(($0 - top) * t) }
            let total = exps.reduce(0, +)
            for c in 0..<classes { probs[row * classes + c] = Float(exps[c] / total) }
            labels[row] = Int32(best)
            confidence[row] = Float(1 / total)
            weights[row] = Float(1 - exp(-(top - second) / t))
        }
        var attributes: [String: AttributeValue] = [
            "alpha": .double(options.alpha), "temperature": .double(options.temperature),
            "skip": .int(skip), "pairs": .int(used),
        ]
        for name in ["k", "sigma", "self_loop"] { attributes[name] = parameters[name] }
        return PseudoLabels(probs: probs, labels: labels, confidence: confidence, weights: weights, count: n,
                            classCount: classes, labeled: split.labeled, labeledLabels: split.labeledLabels,
                            method: "ncut", parameters: attributes)
    }

    /// Scales each column of a row-major matrix to L2 norm `scale` (columns of norm 0 stay 0).
    private static func normalizeColumns(_ values: inout [Double], rows: Int, columns: Int, scale: Double = 1) {
        var norms = [Double](repeating: 0, count: columns)
        for row in 0..<rows {
            for c in 0..<columns { norms[c] += values[row * columns + c] * values[row * columns + c] }
        }
        let factors = norms.map { $0 > 0 ? scale / $0.squareRoot() : 0 }
        for row in 0..<rows {
            for c in 0..<columns { values[row * columns + c] *= factors[c] }
        }
    }
}
