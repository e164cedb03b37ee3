import ArgumentParser
import MTNetwork

/// `mt-train predict MODEL DATASET`: a classifier's predictions as pseudo-labels.
struct TrainPredictCommand: ToolCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Run a trained classifier over a data set and write its predictions as pseudo-labels.",
        discussion: """
        Writes the pseudo-labels artifact (method predict): per image the softmax of logits / --temperature,
        averaged over the --tta views, its argmax and top probability. With --split the split's labelled
        samples keep their given labels (one-hot, confidence 1), as propagation writes them, so that
        mt-select pseudo chooses among the others. The teacher step of teacher/student training:

          mt-train predict teacher.h5 train.h5 --split split.h5 -o teacher-pseudo.h5
          mt-select pseudo teacher-pseudo.h5 --per-class-top 1000 --top-classes 3 --exclude-labeled -o student-set.h5
        """)

    @OptionGroup var common: CommonOptions
    @OptionGroup var output: OutputOption
    @Argument(help: "Trained classifier (checkpoint artifact).") var model: String
    @Argument(help: "Images to predict (dataset artifact).") var dataset: String
    @Option(help: "Split whose labelled samples keep their labels.") var split: String?
    @Option(parsing: .unconditional, help: "Softmax temperature (\(TrainingChecks.temperature)); above 1 softens the distributions.") var temperature = 1.0
    @Option(help: "Test-time augmentation: none, flip (mirror image; photos), shift (2-pixel shifts; digits).") var tta: TestTimeAugmentation = .none
    @Option(parsing: .unconditional, help: "Inference batch size (\(TrainingChecks.batchSize)).") var batchSize = 512

    func validate() throws {
        try TrainingChecks.temperature.check(temperature, "--temperature")
        try TrainingChecks.batchSize.check(batchSize, "--batch-size")
    }

    func execute() throws {
        try PredictionRun.run(checkpoint: model, dataset: dataset, split: split,
                              prediction: ModelPrediction(temperature: temperature, augmentation: tta, batchSize: batchSize),
                              output: output.output)
    }
}
