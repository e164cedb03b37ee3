import ArgumentParser
import MTAlgorithms
import MTCore
import MTNetwork
import MTStorage

public struct MTTrain: ParsableCommand {
    public init() {}

    public static let configuration = CommandConfiguration(
        commandName: "mt-train",
        abstract: "Train networks on the CPU.",
        version: mtVersion,
        subcommands: [TrainClassifierCommand.self, TrainSSLCommand.self, TrainMetricCommand.self, TrainPredictCommand.self,
                      TrainBenchmarkCommand.self])
}

struct TrainClassifierCommand: ToolCommand {
    static let configuration = CommandConfiguration(
        commandName: "classifier",
        abstract: "Train a classifier on labelled samples plus a selection of pseudo-labels.",
        discussion: """
        Trains on the split's labelled samples (weight 1) plus the selection (its pseudo-labels and weights);
        with neither, on every sample of DATASET that has a label. After every epoch a checkpoint goes to
        OUT.partial.h5 beside -o (complete = 0, what --resume continues); -o is written when training is done.

          mt-train classifier mnist-train.h5 --arch mnist-cnn --epochs 15 --eval mnist-test.h5 -o cnn.h5
          mt-train classifier train.h5 --split split.h5 --selection sel.h5 --init metric.h5 --arch mnist-cnn -o ft.h5
        """)

    @OptionGroup var common: CommonOptions
    @OptionGroup var output: OutputOption
    @OptionGroup var seed: SeedOption
    @OptionGroup var start: ClassifierStartOptions
    @Option(help: "Selection of pseudo-labelled samples (selection artifact) to add.") var selection: String?
    @Option(parsing: .unconditional, help: "Epochs (\(TrainingChecks.epochs)).") var epochs = 30
    @Option(parsing: .unconditional, help: "Total optimiser steps (\(TrainingChecks.iterations); overrides --epochs).") var iterations: Int?
    @Option(parsing: .unconditional, help: "Mini-batch size (\(TrainingChecks.batchSize)).") var batchSize = 128
    @Option(parsing: .unconditional, help: "Base learning rate (\(TrainingChecks.learningRate)).") var lr = 0.1
    @Option(parsing: .unconditional, help: "SGD momentum (\(TrainingChecks.momentum)).") var momentum = 0.9
    @Option(parsing: .unconditional, help: "Weight decay (\(TrainingChecks.weightDecay); L2 on every parameter, as PyTorch SGD).") var weightDecay = 5e-4
    @Flag(help: "Nesterov momentum.") var nesterov = false
    @Option(help: "Learning-rate schedule: cosine, restarts:PERIOD[:MULT], step:E1,E2[:GAMMA], constant.") var schedule = "cosine"
    @Option(parsing: .unconditional, help: "Linear learning-rate warm-up, in epochs (\(TrainingChecks.warmup); 0 = none).") var warmup = 0.0
    @Option(parsing: .unconditional, help: "Label smoothing of the cross-entropy (\(TrainingChecks.labelSmoothing); 0 = off).") var labelSmoothing = 0.0
    @Option(help: "Augmentation: none, digits, natural (default: digits for 1-channel images up to 32 px, else natural).")
    var augment: Augmentation?
    @Option(parsing: .unconditional, help: "Output classes (\(TrainingChecks.outputDim); default: the data set's class count).") var outputDim: Int?
    @Option(help: "Targets: hard (each sample's label) or soft (the selection's class distributions; a distilled student).")
    var targets: TargetKind = .hard
    @Option(parsing: .unconditional, help: "Temperature of the student's softmax for --targets soft (\(TrainingChecks.temperature); loss scaled by T^2).")
    var softTemperature = 1.0

    enum TargetKind: String, CaseIterable, ExpressibleByArgument { case hard, soft }

    var optimizer: OptimizerSettings {
        OptimizerSettings(epochs: epochs, iterations: iterations, batchSize: batchSize, lr: lr, momentum: momentum,
                          weightDecay: weightDecay, nesterov: nesterov, schedule: schedule, warmupEpochs: warmup, seed: seed.seed)
    }

    func validate() throws {
        try TrainingChecks.check(optimizer, batchSize: TrainingChecks.batchSize)
        try TrainingChecks.labelSmoothing.check(labelSmoothing, "--label-smoothing")
        try TrainingChecks.outputDim.check(outputDim, "--output-dim")
        try TrainingChecks.temperature.check(softTemperature, "--soft-temperature")
        if targets == .soft, labelSmoothing > 0 { throw ValidationError("--label-smoothing applies to hard targets only") }
    }

    func execute() throws {
        var options = ClassifierOptions(arch: start.arch.rawValue, optimizer: optimizer, labelSmoothing: labelSmoothing,
                                        augmentation: augment?.rawValue ?? "auto", outputDim: outputDim)
        if targets == .soft { options.softTemperature = softTemperature }
        try ClassifierRun.run(start.inputs(selection: selection, output: output.output), options: options)
    }
}

struct TrainBenchmarkCommand: ToolCommand {
    static let configuration = CommandConfiguration(
        commandName: "benchmark",
        abstract: "Measure training and inference throughput on synthetic images (used by bench/network.sh).",
        discussion: "  mt-train benchmark --arch wrn-28-2 --channels 3 --size 32 --threads 2",
        shouldDisplay: false)

    @OptionGroup var common: CommonOptions
    @Option(help: "Architecture.") var arch: Architecture
    @Option(parsing: .unconditional, help: "Input channels (\(TrainingChecks.channels)).") var channels = 1
    @Option(parsing: .unconditional, help: "Input height and width (\(TrainingChecks.imageSize)).") var size = 28
    @Option(parsing: .unconditional, help: "Timed training steps (\(TrainingChecks.steps); batch 128).") var trainSteps = 10
    @Option(parsing: .unconditional, help: "Timed inference batches (\(TrainingChecks.steps); batch 512).") var inferBatches = 4

    func validate() throws {
        try TrainingChecks.channels.check(channels, "--channels")
        try TrainingChecks.imageSize.check(size, "--size")
        try TrainingChecks.steps.check(trainSteps, "--train-steps")
        try TrainingChecks.steps.check(inferBatches, "--infer-batches")
    }

    func execute() throws {
        let result = NetworkBenchmark.run(arch, channels: channels, size: size, trainSteps: trainSteps, inferBatches: inferBatches)
        print(String(format: "%@ train_img_per_s %.1f infer_img_per_s %.1f", arch.rawValue,
                     result.trainImagesPerSecond, result.inferImagesPerSecond))
    }
}

