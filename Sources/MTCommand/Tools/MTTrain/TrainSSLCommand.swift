import ArgumentParser
import MTNetwork


/// `mt-train ssl`: the semi-supervised methods of TLlib's benchmark on the shared training loop.
struct TrainSSLCommand: ToolCommand {
    static let configuration = CommandConfiguration(
        commandName: "ssl",
        abstract: "Train a classifier semi-supervised: labelled samples plus every other image, unlabelled.",
        discussion: """
        Methods (--method), each with its paper's defaults (the flags below override them):
        \(SemiSupervisedMethod.allCases.map { "  \($0.rawValue): \($0.paper)" }.joined(separator: "\n"))
        The labelled set is the split's labelled samples and/or a selection (--labeled-from: propagated
        pseudo-labels or a reliable pool, the ReLaB recipe), with their weights; every other image of DATASET
        is unlabelled. A step is B labelled images (weak view) and mu * B unlabelled ones (weak view for the
        targets, a second weak view or the strong view RandAugment + Cutout for the student). With a weight
        average (--ema-decay > 0) the saved model and the reported accuracy are the average's.

          mt-train ssl train.h5 --split split.h5 --method fixmatch --arch mnist-cnn --iterations 2000 --eval test.h5 -o fm.h5
          mt-train ssl train.h5 --labeled-from sel.h5 --init metric.h5 --method flexmatch --arch mnist-cnn -o chain.h5
        """)

    @OptionGroup var common: CommonOptions
    @OptionGroup var output: OutputOption
    @OptionGroup var seed: SeedOption
    @OptionGroup var start: ClassifierStartOptions
    @Option(help: "Method: \(SemiSupervisedMethod.allCases.map(\.rawValue).joined(separator: ", ")).") var method: SemiSupervisedMethod
    @Option(help: "Selection (pseudo-labels with weights) to use as (more of) the labelled set.") var labeledFrom: String?
    @Option(parsing: .unconditional, help: "Total optimiser steps (\(TrainingChecks.iterations)).") var iterations = 1000
    @Option(parsing: .unconditional, help: "Steps per epoch: one checkpoint and report each (\(TrainingChecks.steps)).") var epochSteps = 100
    @Option(parsing: .unconditional, help: "Labelled images per step, B (\(TrainingChecks.batchSize)).") var batchSize = 64
    @Option(parsing: .unconditional, help: "Unlabelled images per labelled one, mu (\(TrainingChecks.steps); default: the method's, 7 or 1).") var mu: Int?
    @Option(parsing: .unconditional, help: "Base learning rate (\(TrainingChecks.learningRate); FixMatch's 0.03).") var lr = 0.03
    @Option(parsing: .unconditional, help: "SGD momentum (\(TrainingChecks.momentum)).") var momentum = 0.9
    @Option(parsing: .unconditional, help: "Weight decay (\(TrainingChecks.weightDecay)).") var weightDecay = 5e-4
    @Flag(inversion: .prefixedNo, help: "Nesterov momentum (FixMatch's).") var nesterov = true
    @Option(help: "Learning-rate schedule: cosine, restarts:PERIOD[:MULT], step:E1,E2[:GAMMA], constant.") var schedule = "cosine"
    @Option(parsing: .unconditional, help: "Weight lambda of the unlabelled term (\(SSLChecks.weight); default: the method's).") var unlabeledWeight: Double?
    @Option(parsing: .unconditional, help: "Fraction of training over which lambda ramps up as exp(-5 (1 - t)^2) (\(SSLChecks.fraction); default: the method's).") var rampUp: Double?
    @Option(parsing: .unconditional, help: "Confidence threshold of the mask (\(SSLChecks.fraction); default: the method's, FlexMatch's base threshold).") var threshold: Double?
    @Option(parsing: .unconditional, help: "UDA, MixMatch: sharpening temperature of the targets (\(TrainingChecks.temperature); default: 0.4 UDA, 0.5 MixMatch).") var sharpening: Double?
    @Option(parsing: .unconditional, help: "MixMatch: alpha of the mixup's Beta(alpha, alpha) (\(SSLChecks.positive)).") var mixupAlpha = 0.75
    @Option(help: "UDA: training-signal annealing, none, linear, log or exp.") var tsa: AnnealingSchedule = .none
    @Flag(inversion: .prefixedNo, help: "FlexMatch: threshold warm-up (never-predicted images count in the normalisation).") var thresholdWarmup = true
    @Option(parsing: .unconditional, help: "DebiasMatch: tau of the debiasing and the adaptive margin (\(SSLChecks.positive)).") var debiasTau = 0.5
    @Option(parsing: .unconditional, help: "DebiasMatch: momentum of the running class marginal (\(SSLChecks.momentum)).") var debiasMomentum = 0.999
    @Option(parsing: .unconditional, help: "DST: eta, the weight of the worst-case estimation (\(SSLChecks.weight)).") var dstEta = 1.0
    @Option(parsing: .unconditional, help: "DST: eta', its labelled term's weight against the unlabelled one (\(SSLChecks.weight)).") var dstEtaPrime = 2.0
    @Option(parsing: .unconditional, help: "DST: weight of the cross-entropy on strong labelled views (\(SSLChecks.weight)).") var strongLabeledWeight = 0.1
    @Option(parsing: .unconditional, help: "DST: hidden width of the pseudo and worst-case heads (\(TrainingChecks.steps)).") var headWidth = 2048
    @Option(parsing: .unconditional, help: "Self-Tuning: keys kept per class (\(TrainingChecks.steps)).") var queueSize = 32
    @Option(parsing: .unconditional, help: "Self-Tuning: temperature of the pseudo-group contrast (\(TrainingChecks.temperature)).") var contrastTemperature = 0.07
    @Option(parsing: .unconditional, help: "Self-Tuning: decay of the key encoder (\(SSLChecks.decay)).") var keyMomentum = 0.999
    @Option(parsing: .unconditional, help: "Self-Tuning: width of the projection (\(TrainingChecks.steps)).") var projectionDim = 1024
    @Option(parsing: .unconditional, help: "Decay of the weight average that is evaluated and saved (\(SSLChecks.decay); 0 = none; default: the method's).") var emaDecay: Double?
    @Option(help: "Weak augmentation: none, digits, natural (default: digits for 1-channel images up to 32 px, else natural).")
    var augment: Augmentation?

    var optimizer: OptimizerSettings {
        OptimizerSettings(epochs: (iterations + epochSteps - 1) / max(epochSteps, 1), iterations: iterations, batchSize: batchSize, lr: lr,
                          momentum: momentum, weightDecay: weightDecay, nesterov: nesterov, schedule: schedule, seed: seed.seed)
    }

    func validate() throws {
        try TrainingChecks.steps.check(epochSteps, "--epoch-steps")
        try TrainingChecks.check(optimizer, batchSize: TrainingChecks.batchSize)
        try TrainingChecks.steps.check(mu, "--mu")
        try SSLChecks.weight.check(unlabeledWeight, "--unlabeled-weight")
        try SSLChecks.fraction.check(rampUp, "--ramp-up")
        try SSLChecks.fraction.check(threshold, "--threshold")
        try TrainingChecks.temperature.check(sharpening, "--sharpening")
        try SSLChecks.positive.check(mixupAlpha, "--mixup-alpha")
        try SSLChecks.positive.check(debiasTau, "--debias-tau")
        try SSLChecks.momentum.check(debiasMomentum, "--debias-momentum")
        try SSLChecks.decay.check(emaDecay, "--ema-decay")
        try SSLChecks.weight.check(dstEta, "--dst-eta")
        try SSLChecks.weight.check(dstEtaPrime, "--dst-eta-prime")
        try SSLChecks.weight.check(strongLabeledWeight, "--strong-labeled-weight")
        try TrainingChecks.steps.check(headWidth, "--head-width")
        try TrainingChecks.steps.check(queueSize, "--queue-size")
        try TrainingChecks.temperature.check(contrastTemperature, "--contrast-temperature")
        try SSLChecks.decay.check(keyMomentum, "--key-momentum")
        try TrainingChecks.steps.check(projectionDim, "--projection-dim")
        if method == .dst || method == .selfTuning, let emaDecay, emaDecay > 0 {
            throw ValidationError("--ema-decay: \(method.rawValue) evaluates and saves the network it trains (no weight average)")
        }
        if method == .meanTeacher, emaDecay == 0 { throw ValidationError("--ema-decay: the mean teacher is the weight average; it must be > 0") }
    }

    func execute() throws {
        var options = SemiSupervisedOptions(
            arch: start.arch.rawValue, method: method, optimizer: optimizer, epochSteps: epochSteps, unlabeledRatio: mu ?? method.defaultRatio,
            weight: unlabeledWeight ?? method.defaultWeight, rampUp: rampUp ?? method.defaultRampUp,
            threshold: threshold ?? method.defaultThreshold, sharpening: sharpening ?? method.defaultSharpening, tsa: tsa, thresholdWarmup: thresholdWarmup,
            debiasTau: debiasTau, debiasMomentum: debiasMomentum, averageDecay: emaDecay ?? method.defaultAverageDecay,
            augmentation: augment?.rawValue ?? "auto")
        options.mixupAlpha = mixupAlpha
        options.dstEta = dstEta
        options.dstEtaPrime = dstEtaPrime
        options.strongLabeledWeight = strongLabeledWeight
        options.headWidth = headWidth
        options.queueSize = queueSize
        options.contrastTemperature = contrastTemperature
        options.keyMomentum = keyMomentum
        options.projectionDimension = projectionDim
        try SemiSupervisedRun.run(start.inputs(selection: labeledFrom, output: output.output), options: options)
    }
}

/// Ranges of the semi-supervised options.
enum SSLChecks {
    static let weight = NumericRange.nonNegative
    static let fraction = NumericRange.unit
    static let positive = NumericRange.positive
    static let momentum = NumericRange.unitOpenAbove
    static let decay = NumericRange.unitOpenAbove
}
