import ArgumentParser
import MTAlgorithms
import MTCore
import MTNetwork
import MTStorage

/// `mt-eval model CKPT.h5 TEST.h5`: accuracy of a trained classifier on a labelled data set.
struct EvalModelCommand: ToolCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Top-1/top-5 accuracy, per-class accuracy and confusion matrix of a classifier checkpoint.",
        discussion: """
        Example:
          mt-eval model cnn.h5 mnist-test.h5 --json test.json --plot plots
        """)

    @OptionGroup var common: CommonOptions
    @Argument(help: "Classifier checkpoint (checkpoint artifact).") var checkpoint: String
    @Argument(help: "Labelled data set to evaluate on (dataset artifact).") var dataset: String
    @Option(parsing: .unconditional, help: "Inference batch size (\(TrainingChecks.batchSize)). Default: 512, fewer for large images.") var batchSize: Int?
    @OptionGroup var report: ReportOutputOptions

    func validate() throws {
        if let batchSize { try TrainingChecks.batchSize.check(batchSize, "--batch-size") }
    }

    func execute() throws {
        let text = try ModelEvaluation(checkpoint: checkpoint, dataset: dataset, batchSize: batchSize, json: report.json,
                                       output: report.output, plotDirectory: report.plot).run()
        print(text, terminator: "")
    }
}
