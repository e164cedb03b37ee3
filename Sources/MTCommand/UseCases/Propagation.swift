import MTAlgorithms
import MTCore
import MTStorage

// The propagation tools' use cases: read the inputs, run the algorithm, print its diagnostics, write the
// artifact. Each is what one subcommand of mt-knn or mt-ncut does.

extension ExactKNN {
    /// `mt-knn graph`: the k nearest rows of `features` for each of its rows (or of each row of `queries`),
    /// written as a graph artifact.
    static func run(features: String, queries: String?, k: Int, memoryBudget: Int, output: String, shard: Shard? = nil) throws {
        let databaseRows = try FeatureRows(features)
        let queryRows = try queries.map { try FeatureRows($0) }
        for rows in [databaseRows] + (queryRows.map { [$0] } ?? []) where rows.normalized == false {
            Console.note("\(rows.origin): rows are not marked L2-normalised; similarities are plain inner products")
        }
        let database = RowMatrix(source: databaseRows)
        let part = shard.map { RowShard.rows(index: $0.index, count: $0.count, of: database.count) }
        let graph = try queryRows.map { try search(RowMatrix(source: $0), database: database, k: k, memoryBudget: memoryBudget) }
            ?? search(database, k: k, memoryBudget: memoryBudget, shard: part)
        let attributes = shard.map { RowShard(index: $0.index, count: $0.count, rowOffset: part!.lowerBound, totalRows: database.count,
                                                run: "mt-knn graph \(features) -k \(k)").attributes } ?? [:]
        try graph.write(output, inputs: [features] + (queries.map { [$0] } ?? []), attributes: attributes)
        Console.note("wrote \(output): \(graph.count) rows x \(k) neighbours" + (shard.map { " (shard \($0.index)/\($0.count))" } ?? ""))
    }

    /// `mt-knn merge`: the shards of one `mt-knn graph --shard i/n` run, every i once, as the whole graph
    /// (row for row what the unsharded run writes).
    static func merge(_ paths: [String], output: String) throws {
        let shards = try RowShard.complete(try paths.map { path in
            guard let shard = try RowShard.read(path, kind: .graph) else {
                throw MTError.badInput(path, nil, "expected a graph shard (mt-knn graph --shard i/n), found a whole graph")
            }
            return (path, shard)
        })
        let first = shards[0]
        var neighbors: [Int32] = [], similarities: [Float] = []
        var k = 0, databaseSize = 0
        for index in 0..<first.shard.count {
            let (path, shard) = shards[index]
            let graph = try KNNGraph.read(path)
            guard graph.count == shard.rows.count, index == 0 || graph.k == k else {
                throw MTError.badInput(path, "/neighbors", "expected \(shard.rows.count) rows with k=\(index == 0 ? graph.k : k), found \(graph.count) with k=\(graph.k)")
            }
            k = graph.k
            databaseSize = graph.databaseSize
            neighbors += graph.neighbors
            similarities += graph.similarities
        }
        let merged = KNNGraph(neighbors: neighbors, similarities: similarities, count: first.shard.totalRows, k: k,
                              databaseSize: databaseSize, selfIncluded: false)
        // The run's own attributes (index, nprobe, ...) carry over; shard bookkeeping does not.
        let file = try H5File.open(first.path)
        var attributes: [String: AttributeValue] = [:]
        for name in ["index", "nprobe", "ef_search", "training_rows"] { if let value = file.attribute(name) { attributes[name] = value } }
        try merged.write(output, inputs: paths, attributes: attributes)
        Console.note("wrote \(output): \(merged.count) rows x \(k) neighbours from \(paths.count) shards")
    }
}

extension ApproximateKNN {
    /// `mt-knn graph --index`: the approximate self graph of `features`, with its recall@k measured against
    /// exact search on `recallSample` random rows (0: not measured), recorded in the graph's attributes.
    func run(features: String, k: Int, recallSample: Int, memoryBudget: Int, output: String, shard: Shard? = nil) throws {
        let source = try FeatureRows(features)
        if source.normalized == false {
            Console.note("\(source.origin): rows are not marked L2-normalised; similarities are plain inner products")
        }
        let rows = RowMatrix(source: source)
        // One block of rows for adding and searching: an eighth of the budget (the index itself is faiss's).
        let blockRows = max(1, min(rows.count, memoryBudget / 8 / max(1, rows.dimension * MemoryLayout<Float>.size)))
        let part = shard.map { RowShard.rows(index: $0.index, count: $0.count, of: rows.count) } ?? 0..<rows.count
        let built = try build(rows, k: k, blockRows: blockRows, searched: part,
                              progress: ProgressMeter("\(factory) search", total: part.count, unit: "rows"))
        let graph = built.graph
        if !built.exactFallbackRows.isEmpty {
            Console.note("\(built.exactFallbackRows.count) rows had fewer than k=\(k) candidates in the probed lists and were searched exactly (raise --nprobe to avoid it)")
        }
        var attributes: [String: AttributeValue] = ["index": .string(factory), "training_rows": .int(min(rows.count, trainingRows)),
                                                    "exact_fallback_rows": .int(built.exactFallbackRows.count)]
        if let nprobe { attributes["nprobe"] = .int(nprobe) }
        if let efSearch { attributes["ef_search"] = .int(efSearch) }
        if let shard {
            let description = "mt-knn graph \(features) -k \(k) --index \(factory) --nprobe \(nprobe.map(String.init) ?? "-") --ef \(efSearch.map(String.init) ?? "-") --train-rows \(trainingRows) --seed \(seed)"
            attributes.merge(RowShard(index: shard.index, count: shard.count, rowOffset: part.lowerBound, totalRows: rows.count,
                                        run: description).attributes) { $1 }
        }
        if recallSample > 0 {
            let sample = Self.sample(count: part.count, size: min(part.count, recallSample), seed: seed &+ 1)
            let truth = try Self.exactNeighbours(of: sample.map { $0 + part.lowerBound }, in: rows, k: k,
                                                 blockBytes: blockRows * rows.dimension * MemoryLayout<Float>.size)
            let recall = KNNRecall.measure(approximate: graph, exact: truth, rows: sample)
            attributes["recall"] = .double(recall)
            attributes["recall_sample"] = .int(sample.count)
            Console.note(String(format: "recall@%d against exact search on %d random rows: %.4f", k, sample.count, recall))
        }
        try graph.write(output, inputs: [features], attributes: attributes)
        Console.note("wrote \(output): \(graph.count) rows x \(k) neighbours (\(factory))")
    }
}

extension KNNVoting {
    /// `mt-knn propagate`: reads the features and the split, votes, writes the pseudo-labels artifact.
    static func run(features: String, split: String, k: Int?, temperature: Double, prior: PriorBalancing?,
                    memoryBudget: Int, output: String) throws {
        let rows = RowMatrix(source: try FeatureRows(features))
        // The split is read whole; the features are streamed within the same --memory budget.
        let labeled = try ReadBudget.$current.withValue(ReadBudget(bytes: memoryBudget, flag: "--memory")) {
            try Split.read(split, sampleCount: rows.count)
        }
        let result = try propagate(rows, split: labeled, k: k, temperature: temperature, prior: prior, memoryBudget: memoryBudget)
        Console.report(result.diagnostics)
        Console.report(result.labels.classSizeDiagnostics())
        try result.labels.write(output, inputs: [features, split])
        Console.note("wrote \(output): pseudo-labels for \(result.labels.count) samples from \(labeled.labeled.count) labels")
    }
}

extension LabelSpreading {
    /// `mt-knn spread`: reads the graph and the split, spreads, writes the pseudo-labels artifact.
    static func run(graph: String, split: String, alpha: Double, iterations: Int, tolerance: Double,
                    gamma: Double, prior: PriorBalancing?, output: String) throws {
        let knn = try KNNGraph.read(graph)
        let labeled = try Split.read(split)
        let result = try propagate(knn, split: labeled, alpha: alpha, iterations: iterations, tolerance: tolerance, gamma: gamma, prior: prior)
        if !result.converged {
            Console.warn("label spreading did not converge in \(iterations) iterations (tolerance \(tolerance)); raise --iterations")
        }
        Console.report(result.diagnostics)
        Console.report(result.labels.classSizeDiagnostics())
        try result.labels.write(output, inputs: [graph, split])
        Console.note("wrote \(output): pseudo-labels for \(knn.count) samples after \(result.iterations) iterations")
    }
}

extension NormalizedCut {
    /// `mt-ncut eigen`: the graph's smallest Laplacian eigenpairs, written as an eigen artifact.
    static func runEigen(graph: String, options: EigenOptions, memoryBudget: Int, output: String) throws {
        // The size is known from the file's shape: refuse before reading it if the solve cannot fit.
        let shape = try ArtifactReader(graph, expecting: .graph).check("/neighbors", as: Int32.self, shape: ["N", "K"])
        let needed = memoryEstimate(samples: shape[0], k: shape[1], options: options)
        guard needed <= memoryBudget else {
            throw MTError.usage("\(graph): \(options.count) eigenpairs of \(shape[0]) samples (k=\(shape[1])) need about \(needed >> 20) MiB (the solver's basis: N x about 3.5 n floats), more than --memory \(ByteCount(bytes: memoryBudget)); raise --memory or lower -n")
        }
        let knn = try KNNGraph.read(graph)
        var (eigen, diagnostics) = try eigenpairs(of: knn, source: graph, options: options)
        diagnostics.note("eigen: about \(needed >> 20) MiB of memory for \(options.count) pairs of \(shape[0]) samples (estimated before the solve)")
        Console.report(diagnostics)
        try eigen.write(output, inputs: [graph])
        Console.note("wrote \(output)")
    }

    /// `mt-ncut propagate`: pseudo-labels from stored eigenpairs and a split.
    static func runPropagate(eigen: String, split: String, options: PropagateOptions, output: String) throws {
        let pairs = try GraphEigenpairs.read(eigen)
        let labeled = try Split.read(split, sampleCount: pairs.count)
        let (pseudo, diagnostics) = try propagate(pairs, split: labeled, splitPath: split, options: options)
        Console.report(diagnostics)
        Console.report(pseudo.classSizeDiagnostics())
        try pseudo.write(output, inputs: [eigen, split])
        Console.note("wrote \(output)")
    }
}

extension LabeledSplit {
    /// `mt-select split`: reads labels from a dataset or features file and writes a split file.
    static func run(input: String, rule: SplitRule, seed: UInt64, output: String) throws {
        let truth = try TruthLabels.read(input)
        let classCount = truth.classCount
        guard classCount > 0 else { throw MTError.badInput(input, "/labels", "expected some known labels (>= 0), found none") }
        let (split, diagnostics) = try draw(labels: truth.labels, classCount: classCount, rule: rule, seed: seed)
        Console.report(diagnostics)
        var attributes: [String: AttributeValue] = ["seed": .int(Int(truncatingIfNeeded: seed))]
        switch rule {
        case .perClass(let n): attributes["per_class"] = .int(n)
        case .total(let n): attributes["labeled_total"] = .int(n)
        }
        try split.write(output, inputs: [input], attributes: attributes)
        Console.note("wrote \(output): \(split.labeled.count) labelled, \(split.unlabeled.count) unlabelled")
    }
}

extension PseudoLabelSelection {
    /// `mt-select pseudo`: reads pseudo-labels from `input`, selects, writes the selection artifact to
    /// `output`, and notes the counts on stderr.
    @discardableResult
    func run(input: String, output: String) throws -> Selection {
        let pseudo = try PseudoLabels.read(input)
        let (selection, diagnostics) = try select(pseudo, source: input)
        Console.report(diagnostics)
        try selection.write(output, inputs: [input])
        let unlabeled = pseudo.count - pseudo.labeled.count
        Console.note("selected \(selection.count) samples (\(selection.labeledCount) labelled + \(selection.count - selection.labeledCount) of \(unlabeled) unlabelled, \(strategy.name)) -> \(output)")
        return selection
    }
}

extension PseudoLabelCleaning {
    /// `mt-select clean`: reads pseudo-labels and the features they were propagated on, cleans, writes the pool.
    func run(input: String, features path: String, output: String) throws {
        try OutputPath.check(output, inputs: [input, path])
        let pseudo = try PseudoLabels.read(input)
        let features = try Features.read(path)
        guard features.count == pseudo.count else {
            throw MTError.badInput(path, "/features", "expected one row per sample of \(input) (\(pseudo.count)), found \(features.count)")
        }
        let (selection, diagnostics) = try clean(pseudo, features: features.values, dimension: features.dimension, source: input)
        Console.report(diagnostics)
        try selection.write(output, inputs: [input, path])
        Console.note("kept \(selection.count - selection.labeledCount) of \(pseudo.count - pseudo.labeled.count) unlabelled samples (\(perClass) per class at most) + \(selection.labeledCount) labelled -> \(output)")
    }
}
