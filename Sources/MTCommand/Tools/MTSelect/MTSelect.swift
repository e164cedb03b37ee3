import ArgumentParser
import MTAlgorithms
import MTCore
import MTNetwork
import MTStorage

public struct MTSelect: ParsableCommand {
    public init() {}

    public static let configuration = CommandConfiguration(
        commandName: "mt-select",
        abstract: "Draw labelled splits and choose pseudo-labels to train on.",
        version: mtVersion,
        subcommands: [SelectSplitCommand.self, SelectPseudoCommand.self, SelectCleanCommand.self])
}

struct SelectSplitCommand: ToolCommand {
    static let configuration = CommandConfiguration(
        commandName: "split",
        abstract: "Draw the labelled subset: the first n of each class in a seeded permutation, or N in total.",
        discussion: """
        Labels are read from a dataset or features file; samples labelled -1 are never drawn.
        Examples:
          mt-select split mnist-train.h5 --per-class 10 --seed 0 -o split-n10-s0.h5
          mt-select split train-pca.h5 --labeled 100 --seed 1 -o split.h5
        """)

    @Argument(help: "Dataset or features file with /labels.") var input: String
    @Option(parsing: .unconditional, help: "Labelled samples per class (>= 1).") var perClass: Int?
    @Option(parsing: .unconditional, help: "Labelled samples in total, whatever their class (>= 1).") var labeled: Int?
    @OptionGroup var seed: SeedOption
    @OptionGroup var output: OutputOption
    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard (perClass == nil) != (labeled == nil) else { throw ValidationError("give exactly one of --per-class or --labeled") }
        try NumericChecks.check(perClass, .atLeast(1), "--per-class")
        try NumericChecks.check(labeled, .atLeast(1), "--labeled")
    }

    func execute() throws {
        let rule: SplitRule = perClass.map { .perClass($0) } ?? .total(labeled!)
        try LabeledSplit.run(input: input, rule: rule, seed: seed.seed, output: output.output)
    }
}

