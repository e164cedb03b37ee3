import ArgumentParser
import Shared

/// `mt-eval model CKPT.h5 TEST.h5`: accuracy of a trained classifier on a labelled data set.
struct EvalModel: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Top-1/top-5 accuracy, per-class accuracy and confusion matrix of a classifier checkpoint.",
        discussion: "  mt-eval model cnn.h5 mnist-test.h5")

    @OptionGroup var common: CommonOptions
    @Argument(help: "Classifier checkpoint (checkpoint artifact).") var checkpoint: String
    @Argument(help: "Labelled data set to evaluate on (dataset artifact).") var dataset: String
    @Option(help: "Inference batch size.") var batchSize = 512

    func run() throws {
        common.apply()
        print(try ModelAccuracy.evaluate(checkpoint: checkpoint, dataset: dataset, batchSize: batchSize).report)
    }
}
