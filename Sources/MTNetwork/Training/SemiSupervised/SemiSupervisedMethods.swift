import MTCore

/// The semi-supervised methods of `mt-train ssl`, with each paper's defaults.
public enum SemiSupervisedMethod: String, CaseIterable, Codable, Sendable {
    case pseudoLabel = "pseudo-label", piModel = "pi-model", meanTeacher = "mean-teacher", uda, fixmatch, flexmatch, debiasmatch, dst
    case selfTuning = "self-tuning", mixmatch

    public var paper: String {
        switch self {
        case .pseudoLabel: "Lee 2013, Pseudo-Label"
        case .piModel: "Laine & Aila 2017, Temporal ensembling (the Pi-model)"
        case .meanTeacher: "Tarvainen & Valpola 2017, Mean teachers"
        case .uda: "Xie et al. 2020, Unsupervised data augmentation"
        case .fixmatch: "Sohn et al. 2020, FixMatch"
        case .flexmatch: "Zhang et al. 2021, FlexMatch"
        case .debiasmatch: "Wang et al. 2022, Debiased pseudo-labeling (DebiasPL)"
        case .dst: "Chen et al. 2022, Debiased self-training (DST)"
        case .selfTuning: "Wang et al. 2021, Self-tuning (pseudo-group contrast)"
        case .mixmatch: "Berthelot et al. 2019, MixMatch"
        }
    }

    /// lambda, the weight of the unlabelled term. The squared-error methods use the mean teacher's 100
    /// (its MSE is averaged over classes); the Pi-model's w_max = 100 * M / N is about 10 at M/N = 0.08,
    /// Laine & Aila's CIFAR-10 setting, which is kept for any M/N here.
    public var defaultWeight: Double {
        switch self {
        case .meanTeacher: 100
        case .piModel: 10
        case .mixmatch: 75
        default: 1
        }
    }

    /// Fraction of training over which lambda ramps up: 80 of 300 epochs (Pi-model), 5 of 180 (mean teacher),
    /// all of it for MixMatch (linear, as its PyTorch reference; the paper's 16k of 1M steps would be 16 steps
    /// of a 1000-step CPU run, and lambda_u = 75 after 2 steps of 120 collapsed mnist-cnn to 11.6 % test
    /// accuracy on a 1000-image MNIST subset, against 33 % with the whole-run ramp and 64 % at lambda_u = 10).
    public var defaultRampUp: Double {
        switch self {
        case .piModel: 80.0 / 300
        case .meanTeacher: 5.0 / 180
        case .mixmatch: 1
        default: 0
        }
    }

    /// The confidence threshold of the mask (the base threshold of FlexMatch); 0: no mask.
    public var defaultThreshold: Double {
        switch self {
        case .pseudoLabel, .fixmatch, .flexmatch, .debiasmatch: 0.95
        case .uda: 0.8
        case .dst: 0.7
        case .piModel, .meanTeacher, .selfTuning, .mixmatch: 0
        }
    }

    /// mu: unlabelled images per labelled one: 7 for FixMatch and its successors (and UDA in FixMatch's
    /// comparison), 1 for the older methods, which mixed both in one batch, and for TLlib's DST and
    /// Self-Tuning (one unlabelled batch of B per step).
    public var defaultRatio: Int {
        switch self {
        case .pseudoLabel, .piModel, .meanTeacher, .dst, .selfTuning, .mixmatch: 1
        default: 7
        }
    }

    /// Decay of the weight average (0: none): the mean teacher's 0.99; 0.999 for the evaluation model of
    /// FixMatch, FlexMatch and DebiasMatch.
    public var defaultAverageDecay: Double {
        switch self {
        case .meanTeacher: 0.99
        case .fixmatch, .flexmatch, .debiasmatch, .mixmatch: 0.999
        default: 0
        }
    }

    public var usesThreshold: Bool { defaultThreshold > 0 }

    /// DST and Self-Tuning train heads of their own beside the network's (their own objectives); the others
    /// are a `ConsistencyMethod` on `SemiSupervisedObjective`'s step.
    public var hasOwnObjective: Bool { self == .dst || self == .selfTuning || self == .mixmatch }

    /// The sharpening temperature of the targets: UDA's 0.4, MixMatch's 0.5.
    public var defaultSharpening: Double { self == .mixmatch ? 0.5 : 0.4 }
}

/// Everything that determines a semi-supervised run (`mt-train ssl`); stored as the checkpoint's `args`.
public struct SemiSupervisedOptions: TrainingArguments, Sendable {
    public var arch: String
    public var method: SemiSupervisedMethod
    public var optimizer: OptimizerSettings
    public var unlabeledRatio: Int
    public var weight: Double
    public var rampUp: Double
    public var threshold: Double
    /// UDA's and MixMatch's sharpening temperature.
    public var sharpening: Double
    /// MixMatch's Beta(alpha, alpha) of the mixup.
    public var mixupAlpha = 0.75
    /// UDA's training-signal annealing.
    public var tsa: AnnealingSchedule
    /// FlexMatch's threshold warm-up.
    public var thresholdWarmup: Bool
    /// DebiasMatch's tau and marginal momentum.
    public var debiasTau: Double
    public var debiasMomentum: Double
    /// 0: no weight average.
    public var averageDecay: Double
    /// DST's heads and weights (its threshold is `threshold`, its lambda `weight`).
    public var dstEta = 1.0
    public var dstEtaPrime = 2.0
    public var strongLabeledWeight = 0.1
    public var headWidth = 2048
    /// Self-Tuning's queue, temperature, key-encoder decay and projection.
    public var queueSize = 32
    public var contrastTemperature = 0.07
    public var keyMomentum = 0.999
    public var projectionDimension = 1024
    /// none, digits, natural (resolved from the data set before training).
    public var augmentation: String
    /// Optimiser steps per epoch (one checkpoint and report each).
    public var epochSteps: Int

    public init(arch: String, method: SemiSupervisedMethod, optimizer: OptimizerSettings, epochSteps: Int, unlabeledRatio: Int, weight: Double,
                rampUp: Double, threshold: Double, sharpening: Double, tsa: AnnealingSchedule, thresholdWarmup: Bool,
                debiasTau: Double, debiasMomentum: Double, averageDecay: Double, augmentation: String) {
        self.arch = arch
        self.method = method
        self.optimizer = optimizer
        self.epochSteps = epochSteps
        self.unlabeledRatio = unlabeledRatio
        self.weight = weight
        self.rampUp = rampUp
        self.threshold = threshold
        self.sharpening = sharpening
        self.tsa = tsa
        self.thresholdWarmup = thresholdWarmup
        self.debiasTau = debiasTau
        self.debiasMomentum = debiasMomentum
        self.averageDecay = averageDecay
        self.augmentation = augmentation
    }

    /// The method object these options describe, for `unlabeledCount` unlabelled images of `classes` classes.
    public func makeMethod(unlabeledCount: Int, classes: Int) -> any ConsistencyMethod {
        switch method {
        case .pseudoLabel: PseudoLabelMethod(threshold: threshold)
        case .piModel: PiModelMethod()
        case .meanTeacher: MeanTeacherMethod()
        case .uda: UDAMethod(temperature: sharpening, threshold: threshold, tsa: tsa)
        case .fixmatch: FixMatchMethod(threshold: threshold)
        case .flexmatch: FlexMatchMethod(unlabeledCount: unlabeledCount, threshold: threshold, warmup: thresholdWarmup)
        case .debiasmatch: DebiasMatchMethod(classes: classes, threshold: threshold, tau: debiasTau, momentum: debiasMomentum)
        case .dst, .selfTuning, .mixmatch: preconditionFailure("\(method.rawValue) has its own objective (makeObjective)")
        }
    }

    /// The objective of a run: `SemiSupervisedObjective` with the method's `ConsistencyMethod`, or DST's or
    /// Self-Tuning's own; `resume` continues the state a checkpoint of the same run stored.
    public func makeObjective(labeled: TrainingSet, unlabeled: [Int], weak: ImageBatcher, strong: ImageBatcher, network: Network,
                              average: WeightAverage?, resume: (state: [String: [Float]], source: String)?) throws -> any SemiSupervisedTraining {
        let seed = optimizer.seed
        switch method {
        case .dst:
            let settings = DebiasedSelfTrainingObjective.Settings(threshold: threshold, selfTrainingWeight: weight, eta: dstEta,
                                                                  etaPrime: dstEtaPrime, strongLabeledWeight: strongLabeledWeight, headWidth: headWidth)
            let objective = DebiasedSelfTrainingObjective(labeled: labeled, unlabeled: unlabeled, weak: weak, strong: strong, settings: settings,
                                                          unlabeledRatio: unlabeledRatio, embeddingDimension: network.architecture.embeddingDimension,
                                                          classes: network.outputDimension, seed: seed, epochSteps: epochSteps)
            if let resume { try objective.restore(resume.state, source: resume.source) }
            return objective
        case .selfTuning:
            let settings = SelfTuningObjective.Settings(queueSize: queueSize, temperature: contrastTemperature, keyMomentum: keyMomentum,
                                                        projectionDimension: projectionDimension)
            let objective = SelfTuningObjective(labeled: labeled, unlabeled: unlabeled, strong: strong, settings: settings,
                                                unlabeledRatio: unlabeledRatio, network: network, seed: seed, epochSteps: epochSteps)
            if let resume { try objective.restore(resume.state, source: resume.source) }
            return objective
        case .mixmatch:
            return MixMatchObjective(labeled: labeled, unlabeled: unlabeled, weak: weak, unlabeledRatio: unlabeledRatio, temperature: sharpening,
                                     alpha: mixupAlpha, weight: weight, rampUp: rampUp, seed: seed, average: average, epochSteps: epochSteps)
        default:
            let consistency = makeMethod(unlabeledCount: unlabeled.count, classes: network.outputDimension)
            if let resume { try consistency.restoreState(resume.state, source: resume.source) }
            return SemiSupervisedObjective(labeled: labeled, unlabeled: unlabeled, weak: weak, strong: strong, method: consistency,
                                           unlabeledRatio: unlabeledRatio, weight: weight, rampUp: rampUp, seed: seed, average: average,
                                           epochSteps: epochSteps)
        }
    }
}
