import ArgumentParser
import MTAlgorithms
import MTCore

/// `mt-select clean`: ReLaB's reliable pool, the propagated labels cleaned by a classifier trained on them.
struct SelectCleanCommand: ToolCommand {
    static let configuration = CommandConfiguration(
        commandName: "clean",
        abstract: "Keep the N samples per class whose propagated label a classifier trained on all of them finds least costly.",
        discussion: """
        ReLaB's cleaning (Albert et al. 2021): multinomial logistic regression on the frozen FEATURES is fitted
        to every propagated label (full-batch gradient descent with momentum from zero, --epochs steps); each
        class then keeps the --per-class unlabelled samples with the smallest loss under it (their /confidence
        is the classifier's probability of the label). The labelled samples come first, as in every
        selection. A pool for mt-train ssl --labeled-from or mt-train classifier --selection:

          mt-select clean ncut.h5 --features features.h5 --per-class 100 -o pool.h5
        """)

    @OptionGroup var common: CommonOptions
    @OptionGroup var output: OutputOption
    @Argument(help: "Pseudo-labels file (from mt-knn, mt-ncut or mt-train predict).") var input: String
    @Option(help: "Features the propagation used (features artifact, one row per sample).") var features: String
    @Option(parsing: .unconditional, help: NumericChecks.help("Samples kept per class", .atLeast(1))) var perClass: Int
    @Option(parsing: .unconditional, help: NumericChecks.help("Gradient-descent steps of the cleaning classifier", .atLeast(1))) var epochs = 200
    @Option(parsing: .unconditional, help: NumericChecks.help("Its learning rate", .positive)) var lr = 1.0
    @Option(parsing: .unconditional, help: NumericChecks.help("Its weight decay (L2 on the weights)", .nonNegative)) var weightDecay = 5e-4
    @Option(help: "Training weight of the kept samples (nc: the method's own /weights).") var weights: SelectionWeighting = .confidence

    func validate() throws {
        try NumericChecks.check(perClass, .atLeast(1), "--per-class")
        try NumericChecks.check(epochs, .atLeast(1), "--epochs")
        try NumericChecks.check(lr, .positive, "--lr")
        try NumericChecks.check(weightDecay, .nonNegative, "--weight-decay")
    }

    func execute() throws {
        try PseudoLabelCleaning(perClass: perClass, classifier: LogisticRegression(epochs: epochs, learningRate: lr, weightDecay: weightDecay),
                                weighting: weights)
            .run(input: input, features: features, output: output.output)
    }
}
