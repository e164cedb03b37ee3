import ArgumentParser
import MTAlgorithms
import MTCore
import MTNetwork
import MTStorage

public struct MTKnn: ParsableCommand {
    public init() {}

    public static let configuration = CommandConfiguration(
        commandName: "mt-knn",
        abstract: "kNN graphs (exact, approximate through faiss, sharded) and label propagation by kNN voting or label spreading.",
        version: mtVersion,
        subcommands: [KNNGraphCommand.self, KNNMergeCommand.self, KNNPropagateCommand.self, KNNSpreadCommand.self])
}

struct KNNGraphCommand: ToolCommand {
    static let configuration = CommandConfiguration(
        commandName: "graph",
        abstract: "k nearest neighbours of every row by inner product (cosine for unit rows): exact, or approximate through faiss.",
        discussion: """
        Self matches are excluded. With --queries, every query row is searched in FEATURES instead.
        Features larger than --memory are streamed from disk in row blocks.
        --index FACTORY searches approximately with a faiss index (index_factory strings: IVF4096,Flat,
        IVF16384,PQ32, HNSW32, ...), trained on --train-rows sampled rows; --nprobe (IVF) and --ef (HNSW)
        trade speed for recall, which is measured against exact search on --recall-sample rows and
        recorded in the graph (attributes index, nprobe, ef_search, recall).
        Examples:
          mt-knn graph train-pca.h5 -k 20 -o graph.h5
          mt-knn graph train-pca.h5 -k 10 --queries test-pca.h5 --memory 256M -o test-graph.h5
          mt-knn graph big.h5 -k 20 --index IVF4096,Flat --nprobe 16 -o graph.h5
        """)

    @Argument(help: "Features file to search (the database).") var features: String
    @Option(name: [.short, .long], parsing: .unconditional, help: "Neighbours per row (>= 1, below the number of rows).") var k: Int
    @Option(help: "Features file of query rows (default: the rows of FEATURES, self excluded).") var queries: String?
    @Option(help: "Approximate search with this faiss index_factory string (default: exact search).") var index: String?
    @Option(parsing: .unconditional, help: "IVF indexes: inverted lists visited per query (>= 1; faiss's default 1).") var nprobe: Int?
    @Option(parsing: .unconditional, help: "HNSW indexes: search candidate list size (>= 1; faiss's default 16).") var ef: Int?
    @Option(parsing: .unconditional, help: "Rows sampled to train the index (>= 1).") var trainRows = ApproximateKNN.defaultTrainingRows
    @Option(parsing: .unconditional, help: "Rows whose recall is measured against exact search (>= 0).") var recallSample = 1000
    @OptionGroup var seed: SeedOption
    @OptionGroup var shard: ShardOption
    @OptionGroup var memory: MemoryOption
    @OptionGroup var output: OutputOption
    @OptionGroup var common: CommonOptions

    func validate() throws {
        try NumericChecks.check(k, .atLeast(1), "-k")
        if shard.shard != nil, queries != nil { throw ValidationError("--shard splits a self graph's rows; --queries searches are not sharded") }
        try NumericChecks.check(nprobe, .atLeast(1), "--nprobe")
        try NumericChecks.check(ef, .atLeast(1), "--ef")
        try NumericChecks.check(trainRows, .atLeast(1), "--train-rows")
        try NumericChecks.check(recallSample, .atLeast(0), "--recall-sample")
        if index == nil, nprobe != nil || ef != nil { throw ValidationError("--nprobe and --ef go with --index") }
        if index != nil, queries != nil { throw ValidationError("--index builds a self graph; --queries is exact search only") }
    }

    func execute() throws {
        if let index {
            try ApproximateKNN(factory: index, nprobe: nprobe, efSearch: ef, trainingRows: trainRows, seed: seed.seed)
                .run(features: features, k: k, recallSample: recallSample, memoryBudget: memory.memory.bytes, output: output.output,
                     shard: shard.shard)
        } else {
            try ExactKNN.run(features: features, queries: queries, k: k, memoryBudget: memory.memory.bytes, output: output.output,
                             shard: shard.shard)
        }
    }
}

struct KNNMergeCommand: ToolCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Assemble the shards of one mt-knn graph --shard run into the whole graph.",
        discussion: """
        Every shard 0..n-1 exactly once, all of the same run (features, k, index settings, as each shard
        records); the result is row for row the graph the unsharded run writes.
        Example:
          for i in 0 1 2 3; do mt-knn graph features.h5 -k 20 --shard $i/4 -o graph-$i.h5; done
          mt-knn merge graph-0.h5 graph-1.h5 graph-2.h5 graph-3.h5 -o graph.h5
        """)

    @OptionGroup var files: ShardFiles
    @OptionGroup var output: OutputOption
    @OptionGroup var common: CommonOptions

    func execute() throws {
        try ExactKNN.merge(files.shards, output: output.output)
    }
}

struct KNNPropagateCommand: ToolCommand {
    static let configuration = CommandConfiguration(
        commandName: "propagate",
        abstract: "Pseudo-label every sample by weighted voting of its nearest labelled samples (Liu et al.).",
        discussion: """
        Each sample's K most similar labelled samples vote for their class with weight exp(s / T).
        Labelled samples keep their label. --prior scales each class's votes by one factor, chosen by \
        Sinkhorn-Knopp so that the predicted classes match the prior.
        Example:
          mt-knn propagate train-pca.h5 --split split.h5 -o pseudo.h5
          mt-knn propagate train-pca.h5 --split split.h5 --prior uniform -o pseudo-balanced.h5
        """)

    @Argument(help: "Features file.") var features: String
    @Option(help: "Split file with the labelled samples.") var split: String
    @Option(name: [.short, .long], parsing: .unconditional, help: "Voters per sample, >= 1 (default: min(#labelled, 200)).") var k: Int?
    @Option(parsing: .unconditional, help: NumericChecks.help("Temperature T of the vote weights exp(s / T)", .positive)) var temperature = KNNVoting.defaultTemperature
    @OptionGroup var prior: PriorOptions
    @OptionGroup var memory: MemoryOption
    @OptionGroup var output: OutputOption
    @OptionGroup var common: CommonOptions

    func validate() throws {
        try NumericChecks.check(k, .atLeast(1), "-k")
        try NumericChecks.check(temperature, .positive, "--temperature")
    }

    func execute() throws {
        try KNNVoting.run(features: features, split: split, k: k, temperature: temperature, prior: prior.balancing(),
                          memoryBudget: memory.memory.bytes, output: output.output)
    }
}

struct KNNSpreadCommand: ToolCommand {
    static let configuration = CommandConfiguration(
        commandName: "spread",
        abstract: "Pseudo-label every sample by label spreading on a kNN graph (Zhou et al. 2004).",
        discussion: """
        Iterates F <- alpha S F + (1 - alpha) Y on the symmetric normalised affinity S of the graph.
        Example:
          mt-knn graph train-pca.h5 -k 20 -o graph.h5
          mt-knn spread graph.h5 --split split.h5 -o pseudo.h5
        """)

    @Argument(help: "Graph file (from mt-knn graph, without --queries).") var graph: String
    @Option(help: "Split file with the labelled samples.") var split: String
    @Option(parsing: .unconditional, help: NumericChecks.help("Weight of the graph against the given labels", .openUnit)) var alpha = LabelSpreading.defaultAlpha
    @Option(parsing: .unconditional, help: NumericChecks.help("Most iterations", .atLeast(1))) var iterations = LabelSpreading.defaultIterations
    @Option(parsing: .unconditional, help: NumericChecks.help("Stop when no entry changes by more than this times the largest", .nonNegative)) var tolerance = LabelSpreading.defaultTolerance
    @Option(parsing: .unconditional, help: NumericChecks.help("Edge weight max(s, 0)^gamma (0: all edges weigh 1)", .nonNegative)) var gamma = LabelSpreading.defaultGamma
    @OptionGroup var prior: PriorOptions
    @OptionGroup var output: OutputOption
    @OptionGroup var common: CommonOptions

    func validate() throws {
        try NumericChecks.check(alpha, .openUnit, "--alpha")
        try NumericChecks.check(iterations, .atLeast(1), "--iterations")
        try NumericChecks.check(tolerance, .nonNegative, "--tolerance")
        try NumericChecks.check(gamma, .nonNegative, "--gamma")
    }

    func execute() throws {
        try LabelSpreading.run(graph: graph, split: split, alpha: alpha, iterations: iterations, tolerance: tolerance,
                               gamma: gamma, prior: prior.balancing(), output: output.output)
    }
}

