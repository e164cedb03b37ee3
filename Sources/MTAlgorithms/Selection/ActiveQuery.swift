import MTCore

/// Which unlabelled samples a human should label next (active learning), from propagated pseudo-labels.
///
/// - `margin`: the smallest gap between the top two class probabilities (where propagation is least sure),
///   class-balanced by default: classes take turns by predicted class, each giving its least certain sample,
///   so a budget of 10 over 10 classes asks one per predicted class.
/// - `coverage`: farthest-first traversal (k-centre greedy) in the features' metric, from the labelled set:
///   each query is the sample least similar (inner product, cosine for normalised features) to every
///   labelled or already queried sample — it fills the regions no label reaches.
/// - `mix`: `coverageShare` of the budget by coverage, the rest by margin (margin first; coverage then
///   starts from the labelled samples plus the margin picks).
/// - `random`: uniformly among the unlabelled samples (the baseline an active strategy must beat).
public struct ActiveQuery: Sendable {
    public enum Strategy: String, Sendable, CaseIterable {
        case margin, coverage, mix, random
    }

    public var budget: Int
    public var strategy: Strategy = .margin
    public var coverageShare = 0.5
    public var balanced = true
    public var seed: UInt64 = 0

    public init(budget: Int, strategy: Strategy = .margin) {
        self.budget = budget
        self.strategy = strategy
    }

    /// One proposed sample.
    public struct Query: Sendable, Equatable {
        public var index: Int
        /// The propagated label and its probability, for the reviewer's context.
        public var predicted: Int32
        public var confidence: Float
        /// Top-1 minus top-2 probability.
        public var margin: Float
        /// The strategy that picked it (`margin`, `coverage` or `random`).
        public var reason: Strategy
    }

    public var needsFeatures: Bool { strategy == .coverage || strategy == .mix }

    /// Queries in the order they were chosen. `features` (N x `dimension`, row-major) is needed by coverage
    /// and mix.
    public func select(_ pseudo: PseudoLabels, features: [Float]? = nil, dimension: Int = 0) throws -> (queries: [Query], diagnostics: Diagnostics) {
        guard budget >= 1 else { throw MTError.usage("--budget must be at least 1") }
        guard (0...1).contains(coverageShare) else { throw MTError.usage("--coverage-share must be in 0...1") }
        var diagnostics = Diagnostics()
        let candidates = pseudo.unlabeledIndices
        if candidates.count < budget {
            diagnostics.warn("only \(candidates.count) unlabelled samples: asking for all of them, not \(budget)")
        }
        let wanted = min(budget, candidates.count)
        let margins = Self.margins(pseudo)
        var chosen: [(Int, Strategy)] = []
        switch strategy {
        case .margin:
            chosen = byMargin(candidates, margins: margins, labels: pseudo.labels, classCount: pseudo.classCount, count: wanted).map { ($0, .margin) }
        case .random:
            var generator = SeededGenerator(seed: seed)
            chosen = candidates.shuffled(using: &generator).prefix(wanted).map { ($0, .random) }
        case .coverage, .mix:
            guard let features, dimension > 0, features.count == pseudo.count * dimension else {
                throw MTError.usage("--by \(strategy.rawValue) needs the features the pseudo-labels were propagated on (--features)")
            }
            let coverageCount = strategy == .coverage ? wanted : Int((Double(wanted) * coverageShare).rounded())
            let marginPicks = byMargin(candidates, margins: margins, labels: pseudo.labels, classCount: pseudo.classCount,
                                       count: wanted - coverageCount)
            chosen = marginPicks.map { ($0, .margin) }
            let coverage = try farthestFirst(features: features, dimension: dimension, count: pseudo.count,
                                             centres: pseudo.labeled + marginPicks, picks: coverageCount)
            chosen += coverage.map { ($0, .coverage) }
        }
        let queries = chosen.map { index, reason in
            Query(index: index, predicted: pseudo.labels[index], confidence: pseudo.confidence[index], margin: margins[index], reason: reason)
        }
        if balanced, strategy == .margin || strategy == .mix {
            let classes = Set(queries.filter { $0.reason == .margin }.map(\.predicted)).count
            diagnostics.note("margin queries spread over \(classes) predicted classes")
        }
        return (queries, diagnostics)
    }

    /// Top-1 minus top-2 probability of every sample.
    static func margins(_ pseudo: PseudoLabels) -> [Float] {
        let c = pseudo.classCount
        return (0..<pseudo.count).map { row in
            var first: Float = -1, second: Float = -1
            for value in pseudo.probs[(row * c)..<((row + 1) * c)] {
                if value > first { (first, second) = (value, first) } else if value > second { second = value }
            }
            return c == 1 ? first : first - second
        }
    }

    /// The `count` smallest-margin candidates: globally, or (balanced) in turns over the predicted classes —
    /// each turn takes the next least certain sample of every class that has one, classes ordered by that
    /// sample's margin. Ties go to the lower index.
    func byMargin(_ candidates: [Int], margins: [Float], labels: [Int32], classCount: Int, count: Int) -> [Int] {
        guard count > 0 else { return [] }
        let ordered = candidates.sorted { margins[$0] != margins[$1] ? margins[$0] < margins[$1] : $0 < $1 }
        guard balanced else { return Array(ordered.prefix(count)) }
        // One queue per class, and a last one for samples propagation left without a label (-1).
        var queues = [[Int]](repeating: [], count: classCount + 1)
        for index in ordered { queues[labels[index] >= 0 ? Int(labels[index]) : classCount].append(index) }
        var heads = [Int](repeating: 0, count: queues.count)
        var picks: [Int] = []
        while picks.count < count {
            let turn = queues.indices.filter { heads[$0] < queues[$0].count }
                .sorted { a, b in
                    let x = queues[a][heads[a]], y = queues[b][heads[b]]
                    return margins[x] != margins[y] ? margins[x] < margins[y] : x < y
                }
            for label in turn where picks.count < count {
                picks.append(queues[label][heads[label]])
                heads[label] += 1
            }
        }
        return picks
    }

    /// k-centre greedy: `picks` samples, each the one whose highest similarity to the centres so far is lowest.
    func farthestFirst(features: [Float], dimension d: Int, count n: Int, centres: [Int], picks: Int) throws -> [Int] {
        guard picks > 0 else { return [] }
        var closest = [Float](repeating: -.infinity, count: n)
        var isCentre = [Bool](repeating: false, count: n)
        for centre in centres { isCentre[centre] = true }
        let rows = try RowMatrix(features, count: n, dimension: d, origin: "features")
        if !centres.isEmpty {
            // The nearest labelled sample of every row, through the one exact search every kNN use shares.
            let database = try RowMatrix(try rows.gather(centres, blockBytes: 1 << 26), count: centres.count, dimension: d, origin: "centres")
            let nearest = try ExactKNN.search(rows, database: database, k: 1)
            closest = nearest.similarities
        }
        var result: [Int] = []
        var similarity = [Float](repeating: 0, count: n)
        for _ in 0..<picks {
            var best = -1
            for row in 0..<n where !isCentre[row] {
                if best < 0 || closest[row] < closest[best] { best = row }
            }
            guard best >= 0 else { break }
            result.append(best)
            isCentre[best] = true
            features.withUnsafeBufferPointer { x in
                similarity.withUnsafeMutableBufferPointer { s in
                    BLAS.gemm(x.baseAddress!, x.baseAddress! + best * d, s.baseAddress!, m: n, n: 1, k: d, transposeB: true)
                }
            }
            for row in 0..<n where similarity[row] > closest[row] { closest[row] = similarity[row] }
        }
        return result
    }
}
