import ArgumentParser
import MTNetwork

/// The ranges of every numeric option of `mt-train classifier`, `mt-train metric`, `mt-train benchmark` and
/// `mt-eval model`, in one place: each command names its ranges from here in `--help` and checks them in
/// `validate()`; the range type and the check are `NumericRange` (NumericChecks.swift), shared with the other tools.
enum TrainingChecks {
    static let epochs = NumericRange.atLeast(1)
    static let iterations = NumericRange.atLeast(1)
    static let batchSize = NumericRange.atLeast(1)
    /// In-batch objectives (and batchnorm on a batch of one) need two images per batch.
    static let metricBatchSize = NumericRange.atLeast(2)
    static let learningRate = NumericRange.positive
    static let momentum = NumericRange.unitOpenAbove
    static let weightDecay = NumericRange.nonNegative
    static let warmup = NumericRange.nonNegative
    static let labelSmoothing = NumericRange.unitOpenAbove
    static let outputDim = NumericRange.atLeast(1)
    static let embeddingDim = NumericRange.atLeast(1)
    static let negatives = NumericRange.atLeast(0)
    static let temperature = NumericRange.positive
    static let bankMomentum = NumericRange.unit
    static let channels = NumericRange.atLeast(1)
    /// mnist-cnn pools twice by 2, so smaller images vanish.
    static let imageSize = NumericRange.atLeast(4)
    static let steps = NumericRange.atLeast(1)

    /// Checks the optimiser options every training subcommand shares (same flag names in each), and
    /// parses the schedule so a typo is a usage error before any data is read.
    static func check(_ settings: OptimizerSettings, batchSize: NumericRange) throws {
        try epochs.check(settings.epochs, "--epochs")
        try iterations.check(settings.iterations, "--iterations")
        try batchSize.check(settings.batchSize, "--batch-size")
        try learningRate.check(settings.lr, "--lr")
        try momentum.check(settings.momentum, "--momentum")
        try weightDecay.check(settings.weightDecay, "--weight-decay")
        try warmup.check(settings.warmupEpochs, "--warmup")
        do { _ = try LearningRateSchedule(parsing: settings.schedule) } catch { throw ValidationError("\(error)") }
    }
}
