import ArgumentParser
import MTAlgorithms
import MTCore
import MTNetwork
import MTStorage

/// `mt-select pseudo`: choose the training set from pseudo-labels.
struct SelectPseudoCommand: ToolCommand {
    static let configuration = CommandConfiguration(
        commandName: "pseudo",
        abstract: "Choose the samples to train on from pseudo-labels (labelled samples always included).",
        discussion: """
        Give exactly one strategy. Entries are the labelled samples (weight 1), then the chosen unlabelled \
        samples, most confident first; ties go to the lower sample index.

        Examples:
          mt-select pseudo knn.h5 --ratio 0.5 -o train-set.h5
          mt-select pseudo knn.h5 --per-class-top 500 --balance sinkhorn -o top.h5
          mt-select pseudo ncut.h5 --threshold 0.9 --weights nc -o train-set.h5
          mt-select pseudo teacher.h5 --per-class-top 1000 --top-classes 3 --exclude-labeled -o student.h5
        """)

    enum Balance: String, CaseIterable, ExpressibleByArgument { case auto, none, sinkhorn }

    @OptionGroup var common: CommonOptions
    @OptionGroup var output: OutputOption

    @Argument(help: "Pseudo-labels file (from mt-knn or mt-ncut).")
    var input: String

    @Option(parsing: .unconditional, help: NumericChecks.help("Keep this fraction of the unlabelled samples, the most confident", .fraction))
    var ratio: Double?

    @Option(parsing: .unconditional, help: NumericChecks.help("Keep the K most confident samples of each predicted class", .atLeast(1)))
    var perClassTop: Int?

    @Option(parsing: .unconditional, help: NumericChecks.help("With --per-class-top: a sample competes for each of its P most likely classes, and can be chosen for several", .atLeast(1)))
    var topClasses: Int = 1

    @Flag(help: "Leave the labelled samples out of the selection (a student's set of pseudo-labels alone).")
    var excludeLabeled = false

    @Option(parsing: .unconditional, help: NumericChecks.help("Keep the samples with confidence at least this", .unit))
    var threshold: Double?

    @Option(parsing: .unconditional, help: NumericChecks.help("Keep the n most reliable samples (largest top-two margin) of each class (ReLaB-style)", .atLeast(1)))
    var reliable: Int?

    @Option(help: "Training weight of pseudo-labelled samples (nc: the method's own /weights).")
    var weights: SelectionWeighting = .confidence

    @Option(help: "Rebalance the class marginals to the prior before choosing: sinkhorn (the balanced distributions), none, or auto: the propagation's class prior (as --prior of mt-knn/mt-ncut, lambda \(PriorBalancing.defaultLambda), slack \(PriorBalancing.defaultSlack)) when the pseudo-labels come from one label per class or fewer and have no prior yet.")
    var balance: Balance = .auto

    @Option(help: "Class prior for --balance sinkhorn: uniform, labeled (class frequencies of the labelled set), or FILE (class weights as text, or a dataset's label frequencies).")
    var prior: PriorArgument = .uniform

    @Option(parsing: .unconditional, help: NumericChecks.help("Sinkhorn power applied to the probabilities first (1 = as given; self-label uses 25)", .positive))
    var sinkhornLambda: Double = 1

    @Option(parsing: .unconditional, help: NumericChecks.help("Sinkhorn iteration limit", .atLeast(1)))
    var sinkhornIterations: Int = 1000

    @Option(parsing: .unconditional, help: NumericChecks.help("Sinkhorn stops when the L1 distance of the class marginals to the prior is at most this", .positive))
    var sinkhornTolerance: Double = 1e-6

    func validate() throws {
        let given = [ratio != nil, perClassTop != nil, threshold != nil, reliable != nil].filter { $0 }.count
        guard given == 1 else { throw ValidationError("give exactly one of --ratio, --per-class-top, --threshold, --reliable") }
        try NumericChecks.check(ratio, .fraction, "--ratio")
        try NumericChecks.check(perClassTop, .atLeast(1), "--per-class-top")
        try NumericChecks.check(topClasses, .atLeast(1), "--top-classes")
        if topClasses > 1, perClassTop == nil { throw ValidationError("--top-classes goes with --per-class-top") }
        try NumericChecks.check(threshold, .unit, "--threshold")
        try NumericChecks.check(reliable, .atLeast(1), "--reliable")
        try NumericChecks.check(sinkhornLambda, .positive, "--sinkhorn-lambda")
        try NumericChecks.check(sinkhornIterations, .atLeast(1), "--sinkhorn-iterations")
        try NumericChecks.check(sinkhornTolerance, .positive, "--sinkhorn-tolerance")
    }

    func execute() throws {
        let strategy: SelectionStrategy = if let ratio { .ratio(ratio) }
            else if let perClassTop { .perClassTop(perClassTop, topClasses: topClasses) }
            else if let threshold { .threshold(threshold) }
            else { .reliable(reliable!) }
        let sinkhorn = balance == .sinkhorn
            ? SinkhornKnopp(lambda: sinkhornLambda, maxIterations: sinkhornIterations, tolerance: sinkhornTolerance) : nil
        try PseudoLabelSelection(strategy: strategy, weighting: weights, balance: sinkhorn, prior: try prior.resolve(), excludesLabeled: excludeLabeled,
                                 balancesFewLabels: balance == .auto)
            .run(input: input, output: output.output)
    }
}
