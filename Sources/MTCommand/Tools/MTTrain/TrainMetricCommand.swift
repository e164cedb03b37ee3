import ArgumentParser
import MTAlgorithms
import MTCore
import MTNetwork
import MTStorage

struct TrainMetricCommand: ToolCommand {
    static let configuration = CommandConfiguration(
        commandName: "metric",
        abstract: "Train a metric (an L2-normalised embedding) without labels, or with the labels of another data set.",
        discussion: """
        Objectives: instance (instance discrimination, Wu et al. 2018: memory bank, NCE with --negatives noise
        rows, or the full softmax with --negatives 0), simclr (two augmented views, in-batch NT-Xent), supervised
        (a classifier on DATASET's labels; its penultimate layer is the metric). Labels of DATASET are never used
        by instance/simclr except by the --eval monitor (200-NN accuracy of the held-out set and the mean
        pairwise cosine of its embeddings, printed after every epoch). After every epoch a checkpoint goes to
        OUT.partial.h5 beside -o (complete = 0, what --resume continues); -o is written when training is done.

          mt-train metric mnist-train.h5 --arch mnist-cnn --objective simclr --epochs 10 --eval mnist-test.h5 -o metric.h5
          mt-train metric mnist-train.h5 --arch mnist-cnn --objective instance --negatives 0 --epochs 10 -o metric.h5
          mt-train metric mnist-train.h5 --arch mnist-cnn --objective simclr --epochs 20 -o metric.h5 --resume
          mt-train metric mnist-train.h5 --arch mnist-cnn --objective selflabel --clusters 10 --heads 2 --label-updates 20 -o selflabel.h5
          mt-features extract --model metric.h5 --layer output mnist-train.h5 -o train-metric.h5
        """)

    @OptionGroup var common: CommonOptions
    @OptionGroup var output: OutputOption
    @OptionGroup var seed: SeedOption
    @Argument(help: "Training data set (dataset artifact); labels are ignored unless --objective supervised.") var dataset: String
    @Option(name: .customLong("eval"), help: "Labelled held-out data set for the per-epoch 200-NN monitor.") var evaluation: String?
    @OptionGroup var resume: ResumeOption
    @Option(help: "Architecture: \(Architecture.allCases.map(\.rawValue).joined(separator: ", ")).") var arch: Architecture
    @Option(help: "instance, simclr, supervised or selflabel.") var objective: MetricObjective = .instance
    @Option(parsing: .unconditional, help: "Epochs (\(TrainingChecks.epochs)).") var epochs = 10
    @Option(parsing: .unconditional, help: "Mini-batch size (\(TrainingChecks.metricBatchSize); images, simclr feeds 2x as many views).") var batchSize = 128
    @Option(parsing: .unconditional, help: "Base learning rate (\(TrainingChecks.learningRate)).") var lr = 0.03
    @Option(parsing: .unconditional, help: "SGD momentum (\(TrainingChecks.momentum)).") var momentum = 0.9
    @Option(parsing: .unconditional, help: "Weight decay (\(TrainingChecks.weightDecay)).") var weightDecay = 5e-4
    @Flag(inversion: .prefixedNo, help: "Nesterov momentum (the reference uses it).") var nesterov = true
    @Option(help: "Learning-rate schedule: cosine, restarts:PERIOD[:MULT] (the reference: restarts:10:2), step:E1,E2[:GAMMA], constant.")
    var schedule = "cosine"
    @Option(parsing: .unconditional, help: "Linear learning-rate warm-up, in epochs (\(TrainingChecks.warmup)).") var warmup = 1.0
    @Option(parsing: .unconditional, help: "Embedding dimension (\(TrainingChecks.embeddingDim); instance, simclr).") var embeddingDim = 128
    @Option(parsing: .unconditional, help: "instance: NCE noise samples per image (\(TrainingChecks.negatives)); 0 = full softmax over all images.") var negatives = 4096
    @Option(parsing: .unconditional, help: "Softmax temperature (\(TrainingChecks.temperature); default: 0.07 instance, 0.2 simclr).") var temperature: Double?
    @Option(parsing: .unconditional, help: "instance: memory bank momentum (\(TrainingChecks.bankMomentum)).") var bankMomentum = 0.5
    @Option(help: "instance: memory bank initialisation, network (de-meaned fresh embeddings) or random (the reference).")
    var bankInit = "network"
    @Option(help: "instance: NCE normaliser Z, batch (re-estimated every step) or frozen (after the first step, the reference).")
    var normalizer = "batch"
    @Option(help: "Augmentation: auto, none, digits, natural (auto: digits for 1-channel images up to 32 px).") var augment = "auto"
    @Option(parsing: .unconditional, help: "selflabel: clusters K of every head (\(TrainingChecks.steps); may differ from the classes).") var clusters = 10
    @Option(parsing: .unconditional, help: "selflabel: heads H, each its own clustering (\(TrainingChecks.steps)).") var heads = 1
    @Option(parsing: .unconditional, help: "selflabel: Sinkhorn-Knopp label re-assignments over training, evenly spaced, the first before any step (\(TrainingChecks.steps)).") var labelUpdates = 10
    @Option(parsing: .unconditional, help: "selflabel: power lambda of the probabilities in the Sinkhorn step (\(TrainingChecks.temperature); the paper's 25).") var sinkhornLambda = 25.0

    var optimizer: OptimizerSettings {
        OptimizerSettings(epochs: epochs, batchSize: batchSize, lr: lr, momentum: momentum, weightDecay: weightDecay,
                          nesterov: nesterov, schedule: schedule, warmupEpochs: warmup, seed: seed.seed)
    }

    mutating func validate() throws {
        guard ["network", "random"].contains(bankInit) else { throw ValidationError("--bank-init must be network or random") }
        guard ["batch", "frozen"].contains(normalizer) else { throw ValidationError("--normalizer must be batch or frozen") }
        try TrainingChecks.check(optimizer, batchSize: TrainingChecks.metricBatchSize)
        try TrainingChecks.embeddingDim.check(embeddingDim, "--embedding-dim")
        try TrainingChecks.negatives.check(negatives, "--negatives")
        try TrainingChecks.temperature.check(temperature, "--temperature")
        try TrainingChecks.bankMomentum.check(bankMomentum, "--bank-momentum")
        try TrainingChecks.steps.check(clusters, "--clusters")
        try TrainingChecks.steps.check(heads, "--heads")
        try TrainingChecks.steps.check(labelUpdates, "--label-updates")
        try TrainingChecks.temperature.check(sinkhornLambda, "--sinkhorn-lambda")
    }

    func execute() throws {
        var options = MetricOptions(
            arch: arch.rawValue, objective: objective, optimizer: optimizer,
            embeddingDim: embeddingDim, negatives: negatives, temperature: temperature ?? objective.defaultTemperature,
            bankMomentum: bankMomentum, bankInit: bankInit, normalizer: normalizer, augmentation: augment)
        if objective == .selflabel {
            (options.clusters, options.heads, options.labelUpdates, options.sinkhornLambda) = (clusters, heads, labelUpdates, sinkhornLambda)
        }
        try MetricRun.run(dataset: dataset, evaluation: evaluation, output: output.output, resume: resume.resume, options: options)
    }
}
