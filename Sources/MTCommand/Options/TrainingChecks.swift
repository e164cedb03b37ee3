import ArgumentParser
import MTNetwork

/// The range a numeric option of a training command must lie in. The same value is interpolated into the
/// option's `--help` and checked by the command's `validate()`, so the two cannot disagree.
struct TrainingRange<Value: Comparable & CustomStringConvertible & Sendable>: CustomStringConvertible, Sendable {
    /// How `--help` and the error state the range, e.g. `>= 1`, `in [0, 1)`.
    let description: String
    let contains: @Sendable (Value) -> Bool

    /// A usage error (exit 2, one line) unless `value` is in range.
    func check(_ value: Value, _ flag: String) throws {
        guard contains(value) else { throw ValidationError("\(flag) must be \(description), found \(value)") }
    }

    /// As `check`, for an option that may be absent.
    func check(_ value: Value?, _ flag: String) throws {
        if let value { try check(value, flag) }
    }
}

extension TrainingRange where Value == Int {
    static func atLeast(_ minimum: Int) -> Self { Self(description: ">= \(minimum)") { $0 >= minimum } }
}

extension TrainingRange where Value == Double {
    /// Finite and > 0 (NaN and infinities are refused: they would only surface as a diverged run).
    static let positive = Self(description: "finite and > 0") { $0.isFinite && $0 > 0 }
    static let nonNegative = Self(description: "finite and >= 0") { $0.isFinite && $0 >= 0 }
    /// [0, 1): a momentum or smoothing of 1 would never move.
    static let fraction = Self(description: "in [0, 1)") { $0 >= 0 && $0 < 1 }
    static let unitInterval = Self(description: "in [0, 1]") { $0 >= 0 && $0 <= 1 }
}

/// The ranges of every numeric option of `mt-train classifier`, `mt-train metric`, `mt-train benchmark` and
/// `mt-eval model`, in one place: each command names its ranges from here in `--help` and checks them in
/// `validate()` (the non-training tools have their own checks).
enum TrainingChecks {
    static let epochs = TrainingRange<Int>.atLeast(1)
    static let iterations = TrainingRange<Int>.atLeast(1)
    static let batchSize = TrainingRange<Int>.atLeast(1)
    /// In-batch objectives (and batchnorm on a batch of one) need two images per batch.
    static let metricBatchSize = TrainingRange<Int>.atLeast(2)
    static let learningRate = TrainingRange<Double>.positive
    static let momentum = TrainingRange<Double>.fraction
    static let weightDecay = TrainingRange<Double>.nonNegative
    static let warmup = TrainingRange<Double>.nonNegative
    static let labelSmoothing = TrainingRange<Double>.fraction
    static let outputDim = TrainingRange<Int>.atLeast(1)
    static let embeddingDim = TrainingRange<Int>.atLeast(1)
    static let negatives = TrainingRange<Int>.atLeast(0)
    static let temperature = TrainingRange<Double>.positive
    static let bankMomentum = TrainingRange<Double>.unitInterval
    static let channels = TrainingRange<Int>.atLeast(1)
    /// mnist-cnn pools twice by 2, so smaller images vanish.
    static let imageSize = TrainingRange<Int>.atLeast(4)
    static let steps = TrainingRange<Int>.atLeast(1)

    /// Checks the optimiser options every training subcommand shares (same flag names in each), and
    /// parses the schedule so a typo is a usage error before any data is read.
    static func check(_ settings: OptimizerSettings, batchSize: TrainingRange<Int>) throws {
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
