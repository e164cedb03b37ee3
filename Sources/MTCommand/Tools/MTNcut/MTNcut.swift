import ArgumentParser
import MTAlgorithms
import MTCore
import MTNetwork
import MTStorage

public struct MTNcut: ParsableCommand {
    public init() {}

    public static let configuration = CommandConfiguration(
        commandName: "mt-ncut",
        abstract: "Constrained normalised cut: graph eigenpairs once, then pseudo-labels for any split.",
        version: mtVersion,
        subcommands: [NcutEigenCommand.self, NcutPropagateCommand.self])
}

struct NcutEigenCommand: ToolCommand {
    static let configuration = CommandConfiguration(
        commandName: "eigen",
        abstract: "Smallest eigenpairs of a kNN graph's normalised Laplacian (an eigen file).",
        discussion: """
        Affinities w = exp(-(1 - s) / sigma) on the listed neighbours plus a self-loop of weight 1 (as the \
        reference's K-lists include the point itself), symmetrised (W + W^T) / 2; eigenpairs of \
        I - D^-1/2 W D^-1/2 by a block Krylov-Schur solver, stopping when every pair has \
        ||L v - lambda v|| <= tolerance * (1 - lambda) (scipy eigsh's criterion). Memory: about \
        N x 3.5 n floats for the solver plus the graph (N k x 8 bytes) and its affinity (about 2 N k x 28 \
        bytes); a solve that would exceed --memory is refused before it starts.

        Example:
          mt-ncut eigen train-graph.h5 -n 200 -o train-eigen.h5
        """)

    @Argument(help: "kNN graph file (mt-knn graph) of a set against itself.")
    var graph: String

    @Option(name: [.customShort("n"), .long], parsing: .unconditional, help: NumericChecks.help("Number of eigenpairs, the trivial first one included", .atLeast(1)))
    var count = NormalizedCut.EigenOptions().count

    @Option(parsing: .unconditional, help: NumericChecks.help("Affinity scale: w = exp(-(1 - similarity) / sigma)", .positive))
    var sigma = NormalizedCut.EigenOptions().sigma

    @Flag(help: "Leave out the self-loop of weight 1 the reference has on every sample.")
    var noSelfLoop = false

    @Option(parsing: .unconditional, help: NumericChecks.help("Stop when every pair's residual is at most this times its affinity eigenvalue", .positive))
    var tolerance = NormalizedCut.EigenOptions().tolerance

    @Option(parsing: .unconditional, help: NumericChecks.help("Vectors per block of the solver (one sparse product serves a block)", .atLeast(1)))
    var blockSize = NormalizedCut.EigenOptions().blockSize

    @Option(parsing: .unconditional, help: "Solver basis size before a thick restart, >= n + 2 blocks (default: max(2.5n, n + 8 blocks)).")
    var basisSize: Int?

    @Option(parsing: .unconditional, help: NumericChecks.help("Give up (with a warning, writing what was reached) after this many restarts", .atLeast(0)))
    var maxRestarts = NormalizedCut.EigenOptions().maxRestarts

    @OptionGroup var seed: SeedOption
    @OptionGroup var memory: MemoryOption
    @OptionGroup var output: OutputOption
    @OptionGroup var common: CommonOptions

    func validate() throws {
        try NumericChecks.check(count, .atLeast(1), "-n")
        try NumericChecks.check(sigma, .positive, "--sigma")
        try NumericChecks.check(tolerance, .positive, "--tolerance")
        try NumericChecks.check(blockSize, .atLeast(1), "--block-size")
        try NumericChecks.check(basisSize, .atLeast(count + 2 * blockSize), "--basis-size")
        try NumericChecks.check(maxRestarts, .atLeast(0), "--max-restarts")
    }

    func execute() throws {
        var options = NormalizedCut.EigenOptions()
        options.count = count
        options.sigma = sigma
        options.selfLoop = !noSelfLoop
        options.tolerance = tolerance
        options.blockSize = blockSize
        options.basisSize = basisSize
        options.maxRestarts = maxRestarts
        options.seed = seed.seed
        try NormalizedCut.runEigen(graph: graph, options: options, memoryBudget: memory.memory.bytes, output: output.output)
    }
}

struct NcutPropagateCommand: ToolCommand {
    static let configuration = CommandConfiguration(
        commandName: "propagate",
        abstract: "Pseudo-labels from an eigen file and a split by the biased normalised cut.",
        discussion: """
        logits = V diag(1 / (lambda - alpha)) V^T prior with the reference's degree-balanced +1/-1 prior on \
        the labelled samples; writes a pseudo-labels file with /weights = 1 - exp(-(top1 - top2) / T). \
        --prior adds a per-class bias to the logits, chosen by Sinkhorn-Knopp so that the predicted \
        classes match the prior (a guard against one atypical labelled example taking another class).

        Example:
          mt-ncut propagate train-eigen.h5 --split split-100.h5 -o pseudo-ncut-100.h5
          mt-ncut propagate train-eigen.h5 --split split-10.h5 --prior uniform -o pseudo-ncut-10.h5
        """)

    @Argument(help: "Eigen file (mt-ncut eigen).")
    var eigen: String

    @Option(help: "Split file with the labelled samples (mt-select split).")
    var split: String

    @Option(parsing: .unconditional, help: NumericChecks.help("Bias alpha in 1 / (lambda - alpha), below the Laplacian's eigenvalues", NcutPropagateCommand.alphaRange))
    var alpha = NormalizedCut.PropagateOptions().alpha

    @Option(name: [.customShort("T"), .long], parsing: .unconditional, help: NumericChecks.help("Temperature T of the weights and the softmax", .positive))
    var temperature = NormalizedCut.PropagateOptions().temperature

    @Option(parsing: .unconditional, help: "Leading eigenpairs to leave out, >= 0 (default: those of eigenvalue 0, one per connected component; the trivial first one for a connected graph, as the reference).")
    var skip: Int?

    @Option(parsing: .unconditional, help: "Eigenpairs to use after the skipped ones, >= 1 (default: all in the file).")
    var pairs: Int?

    @OptionGroup var prior: PriorOptions
    @OptionGroup var output: OutputOption
    @OptionGroup var common: CommonOptions

    /// Eigenvalues of a normalised Laplacian lie in [0, 2]: an alpha at or above 2 inverts every weight.
    static let alphaRange = NumericRange(upper: 2, upperOpen: true)

    func validate() throws {
        try NumericChecks.check(alpha, Self.alphaRange, "--alpha")
        try NumericChecks.check(temperature, .positive, "--temperature")
        try NumericChecks.check(skip, .atLeast(0), "--skip")
        try NumericChecks.check(pairs, .atLeast(1), "--pairs")
    }

    func execute() throws {
        var options = NormalizedCut.PropagateOptions()
        options.alpha = alpha
        options.temperature = temperature
        options.skip = skip
        options.pairs = pairs
        options.prior = try prior.balancing()
        try NormalizedCut.runPropagate(eigen: eigen, split: split, options: options, output: output.output)
    }
}

