import ArgumentParser
import MTAlgorithms
import MTCore
import MTNetwork
import MTStorage

public struct MTEval: ParsableCommand {
    public init() {}

    public static let configuration = CommandConfiguration(
        commandName: "mt-eval",
        abstract: "Measure pseudo-labels, selections and models against true labels.",
        version: mtVersion,
        subcommands: [EvalPseudoCommand.self, EvalModelCommand.self, EvalMetricCommand.self, EvalClusterCommand.self])
}

extension MTEval {
    struct EvalPseudoCommand: ToolCommand {
        static let configuration = CommandConfiguration(
            commandName: "pseudo",
            abstract: "Accuracy, accuracy-coverage curve, per-class precision/recall and confusion of pseudo-labels.",
            discussion: """
            Evaluates the samples outside the labelled set (of a pseudo-labels file) or the pseudo-labelled \
            entries (of a selection file) whose true label is known. Several inputs overlay their curves.

            Example:
              mt-eval pseudo knn.h5 ncut.h5 --truth mnist-train.h5 --plot plots --json eval.json -o eval.h5
            """)

        @OptionGroup var common: CommonOptions

        @Argument(help: "Pseudo-labels or selection files (HDF5).")
        var inputs: [String]

        @Option(help: "Dataset or features file whose /labels are the true labels.")
        var truth: String

        @Option(help: "Run name for the legend and the metrics groups, once per input (default: file names).")
        var name: [String] = []

        @OptionGroup var report: ReportOutputOptions

        func execute() throws {
            let text = try PseudoEvaluation(inputs: inputs, names: name, truth: truth, json: report.json,
                                            output: report.output, plotDirectory: report.plot).run()
            print(text, terminator: "")
        }
    }
}

