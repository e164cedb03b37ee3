import Foundation
import MTCore

/// Training options stored in a checkpoint's `args` attribute: JSON with sorted keys, so that `--resume`
/// can compare a run's options with the stored ones.
public protocol TrainingArguments: Codable, Equatable {
    var optimizer: OptimizerSettings { get set }
}

extension TrainingArguments {
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }

    /// Whether a checkpoint made with `stored` may be continued with these options: everything equal
    /// except the length of training (`--epochs`, `--iterations`), which may grow.
    public func canResume(_ stored: Self) -> Bool {
        var comparable = stored
        comparable.optimizer.epochs = optimizer.epochs
        comparable.optimizer.iterations = optimizer.iterations
        return comparable == self
    }
}

/// Everything that determines a classifier training run (`mt-train classifier`).
public struct ClassifierOptions: TrainingArguments, Sendable {
    public var arch: String
    public var optimizer: OptimizerSettings
    public var labelSmoothing: Double
    /// none, digits, natural, or auto (resolved from the data set before training).
    public var augmentation: String
    /// Output classes; nil: the data set's class count.
    public var outputDim: Int?
    /// Soft targets (the selection's distributions) at this temperature; nil: hard labels.
    public var softTemperature: Double?

    public init(arch: String, optimizer: OptimizerSettings, labelSmoothing: Double, augmentation: String, outputDim: Int?) {
        self.arch = arch
        self.optimizer = optimizer
        self.labelSmoothing = labelSmoothing
        self.augmentation = augmentation
        self.outputDim = outputDim
    }
}

/// What a metric network is trained to do.
public enum MetricObjective: String, CaseIterable, Codable, Sendable {
    /// Instance discrimination (Wu et al. 2018): every image its own class, a memory bank of all N
    /// embeddings, NCE with K noise rows (or the full softmax when K = 0).
    case instance
    /// SimCLR (Chen et al. 2020): two augmented views per image, in-batch NT-Xent.
    case simclr
    /// Metric transfer: a classifier trained on the labels of this (another) data set; its penultimate
    /// layer is the embedding.
    case supervised
    /// Self-labelling (Asano et al. 2020): K clusters on H heads, equipartitioned pseudo-labels by
    /// Sinkhorn-Knopp inside the training loop; the penultimate layer is the embedding.
    case selflabel

    /// The softmax temperature each objective's paper uses.
    public var defaultTemperature: Double { self == .simclr ? 0.2 : 0.07 }
}

/// Everything that determines a metric training run (`mt-train metric`).
public struct MetricOptions: TrainingArguments, Sendable {
    public var arch: String
    public var objective: MetricObjective
    public var optimizer: OptimizerSettings
    public var embeddingDim: Int
    /// NCE noise rows K (instance); 0 = full softmax.
    public var negatives: Int
    public var temperature: Double
    public var bankMomentum: Double
    /// Memory bank initialisation: `network` (de-meaned embeddings of the fresh network) or `random`
    /// (the reference's uniform draw).
    public var bankInit: String
    /// NCE normaliser Z: `frozen` after the first batch (the reference) or re-estimated every `batch`.
    public var normalizer: String
    public var augmentation: String
    /// selflabel: clusters K, heads H, label re-assignments, and the power lambda of the Sinkhorn step
    /// (nil for the other objectives, so their stored options read as before).
    public var clusters: Int?
    public var heads: Int?
    public var labelUpdates: Int?
    public var sinkhornLambda: Double?

    public init(arch: String, objective: MetricObjective, optimizer: OptimizerSettings, embeddingDim: Int, negatives: Int,
                temperature: Double, bankMomentum: Double, bankInit: String, normalizer: String, augmentation: String) {
        self.arch = arch
        self.objective = objective
        self.optimizer = optimizer
        self.embeddingDim = embeddingDim
        self.negatives = negatives
        self.temperature = temperature
        self.bankMomentum = bankMomentum
        self.bankInit = bankInit
        self.normalizer = normalizer
        self.augmentation = augmentation
    }

    /// The embedding the metric is used through: the normalised output for instance/simclr, the
    /// penultimate layer for a supervised classifier.
    public var embeddingLayer: FeatureLayer { objective == .supervised || objective == .selflabel ? .penultimate : .output }
}
