import Foundation
import MTCore

/// The optimiser and its schedule: what every training run shares, whatever it trains towards.
public struct OptimizerSettings: Codable, Sendable, Equatable {
    public var epochs: Int
    /// Total optimiser steps; overrides `epochs` (the last epoch is cut short).
    public var iterations: Int?
    public var batchSize: Int
    public var lr: Double
    public var momentum: Double
    public var weightDecay: Double
    public var nesterov: Bool
    /// `LearningRateSchedule` syntax: cosine, restarts:PERIOD[:MULT], step:E1,E2[:GAMMA], constant.
    public var schedule: String
    /// Linear lr warm-up from 0 over this many epochs (fractional allowed), multiplied onto the schedule.
    public var warmupEpochs: Double
    public var seed: UInt64

    public init(epochs: Int, iterations: Int? = nil, batchSize: Int, lr: Double, momentum: Double, weightDecay: Double,
                nesterov: Bool, schedule: String, warmupEpochs: Double = 0, seed: UInt64) {
        self.epochs = epochs
        self.iterations = iterations
        self.batchSize = batchSize
        self.lr = lr
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.nesterov = nesterov
        self.schedule = schedule
        self.warmupEpochs = warmupEpochs
        self.seed = seed
    }
}

/// What one optimiser step trains towards: weighted cross-entropy, NCE against a memory bank, NT-Xent,
/// and the consistency losses and EMA teachers to come. An objective turns a batch of sample positions
/// into a loss and accumulated parameter gradients; the loop around it (`Trainer`) is the same for all.
public protocol TrainingObjective: AnyObject {
    /// How many samples an epoch visits; batches hold positions in 0..<sampleCount.
    var sampleCount: Int { get }
    /// Forward, loss and backward for the samples at `positions`: accumulates d(loss)/d(parameters) and
    /// returns the loss (and, for classification, how many predictions were right). `augmentationSeed`
    /// and `stream` fix the random views of this batch; `iteration` is the step number (for noise draws).
    func step(_ network: Network, positions: [Int], augmentationSeed: UInt64, stream: UInt64, iteration: Int) -> StepOutcome
    /// Steps per epoch when the objective sets them (semi-supervised training: a few labelled samples are
    /// revisited many times, and an epoch is a fixed number of steps); nil: one pass over the samples.
    var stepsPerEpoch: Int? { get }
    /// Called after each optimiser step, `step` the 0-based number of that step (an EMA teacher follows
    /// the student here).
    func afterOptimizerStep(_ network: Network, step: Int)
    /// Adds what an exact resume needs beyond the network and the optimiser (a memory bank, say).
    func save(into checkpoint: inout Checkpoint)
    /// Trainable parameters of the objective's own, outside the network (DST's extra heads, Self-Tuning's
    /// projector), keyed with a prefix of the method's: the optimiser updates them with the network's.
    var auxiliaryParameters: [(String, Parameter)] { get }
}

extension TrainingObjective {
    public var stepsPerEpoch: Int? { nil }
    public var auxiliaryParameters: [(String, Parameter)] { [] }
    public func afterOptimizerStep(_ network: Network, step: Int) {}
}

/// Sets auxiliary parameters from a checkpoint's `/training/<key>` entries, refusing a missing or
/// wrongly sized one.
func restoreAuxiliary(_ parameters: [(String, Parameter)], from state: [String: [Float]], source: String) throws {
    for (key, parameter) in parameters {
        guard let values = state[key], values.count == parameter.value.count else {
            throw MTError.badInput(source, "/training/" + key, "expected float32 [\(parameter.value.count)] (the method's own parameters)")
        }
        parameter.value = values
    }
}

public struct StepOutcome: Sendable {
    public var loss: Double
    /// Correct top-1 predictions in the batch, when the objective classifies.
    public var correct: Int?

    public init(loss: Double, correct: Int? = nil) {
        self.loss = loss
        self.correct = correct
    }
}

/// One epoch's summary, for the caller to print and act on.
public struct EpochReport: Sendable {
    public var epoch: Int
    public var totalEpochs: Int
    public var meanLoss: Double
    /// Training accuracy, when the objective classifies.
    public var accuracy: Double?
    /// The learning rate after the epoch's last step.
    public var learningRate: Double
    public var imagesPerSecond: Double
    public var seconds: Double
}

/// The training loop every `mt-train` subcommand runs: SGD with momentum and weight decay, shuffled
/// mini-batches (the last partial batch of an epoch is dropped, so batchnorm never sees a tiny batch), the
/// learning rate from warm-up x schedule set every step, progress per batch, a report per epoch.
///
/// Determinism: the epoch's order comes from RNG stream (seed, epoch), the augmentation of each sample
/// from (seed + 0x5EED, epoch, position), the objective's own draws from (seed, iteration), and every layer
/// reduces in an order that does not depend on the thread count (`BatchSplit`), so a run — and a resumed
/// run, whose momentum and progress come from the checkpoint — is fixed by the seed alone.
///
/// Divergence: a non-finite loss (checked every step) or parameter (checked at the end of every epoch,
/// before the caller can checkpoint it) stops training with an error naming the epoch and step, so no
/// checkpoint of a broken network is ever written.
public final class Trainer {
    public let network: Network
    public let objective: any TrainingObjective
    public let settings: OptimizerSettings
    public let optimizer: SGD
    public private(set) var epoch: Int
    public private(set) var iteration: Int
    private let schedule: LearningRateSchedule

    /// - Parameter resume: the checkpoint being continued (its network is `network`); momentum buffers and
    ///   progress come from it.
    public init(network: Network, objective: any TrainingObjective, settings: OptimizerSettings, resume: Checkpoint? = nil) throws {
        guard objective.sampleCount > 0 else { throw MTError.usage("no training samples (no labels, split or selection)") }
        guard settings.batchSize >= 1 else { throw MTError.usage("--batch-size must be at least 1, found \(settings.batchSize)") }
        guard settings.epochs >= 1 || (settings.iterations ?? 0) >= 1 else { throw MTError.usage("--epochs must be at least 1") }
        guard settings.warmupEpochs >= 0 else { throw MTError.usage("--warmup must not be negative") }
        if let iterations = settings.iterations, iterations < 1 { throw MTError.usage("--iterations must be at least 1") }
        self.network = network
        self.objective = objective
        self.settings = settings
        schedule = try LearningRateSchedule(parsing: settings.schedule)
        optimizer = SGD(network.namedParameters() + objective.auxiliaryParameters, momentum: Float(settings.momentum),
                        weightDecay: Float(settings.weightDecay), nesterov: settings.nesterov)
        epoch = resume?.epoch ?? 0
        iteration = resume?.iteration ?? 0
        if let resume {
            for (index, (key, parameter)) in optimizer.parameters.enumerated() {
                if let buffer = resume.momentum[key] ?? resume.trainingState[Self.momentumPrefix + key], buffer.count == parameter.value.count {
                    optimizer.buffers[index] = buffer
                }
            }
        }
    }

    /// Steps per epoch: full batches only (one batch of everything when there are fewer samples than a
    /// batch), or the objective's fixed number.
    public var stepsPerEpoch: Int { objective.stepsPerEpoch ?? max(1, objective.sampleCount / settings.batchSize) }
    public var totalSteps: Int { settings.iterations ?? settings.epochs * stepsPerEpoch }
    public var totalEpochs: Int { (totalSteps + stepsPerEpoch - 1) / stepsPerEpoch }
    public var isFinished: Bool { iteration >= totalSteps }
    /// With a fixed epoch length batches are full even when there are fewer samples than a batch (they repeat).
    private var batchSize: Int { objective.stepsPerEpoch == nil ? min(settings.batchSize, objective.sampleCount) : settings.batchSize }

    /// Warm-up x schedule at the current iteration.
    public var learningRate: Double {
        let t = Double(iteration) / Double(stepsPerEpoch)
        let warm = settings.warmupEpochs > 0 ? min(1, (t + 1 / Double(stepsPerEpoch)) / settings.warmupEpochs) : 1
        return warm * schedule.rate(base: settings.lr, epoch: t, total: Double(totalSteps) / Double(stepsPerEpoch))
    }

    /// Trains one epoch (or what is left of the step budget) and reports it; throws when the loss or a
    /// parameter becomes non-finite.
    public func trainEpoch() throws -> EpochReport {
        let steps = min(stepsPerEpoch, totalSteps - iteration), b = batchSize
        let order = epochOrder(count: steps * b)
        let progress = ProgressMeter("epoch \(epoch + 1)/\(totalEpochs)", total: steps * b, unit: "img")
        var lossSum = 0.0, correct = 0, seen = 0
        var classifies = false
        let start = Date()
        for step in 0..<steps {
            let positions = Array(order[(step * b)..<((step + 1) * b)])
            let lr = learningRate
            let outcome = objective.step(network, positions: positions, augmentationSeed: settings.seed &+ 0x5EED,
                                         stream: (UInt64(epoch) << 32) | UInt64(step * b), iteration: iteration)
            guard outcome.loss.isFinite else {
                progress.finish()
                throw diverged("the loss is \(outcome.loss.isNaN ? "NaN" : "infinite")", step: step + 1, of: steps)
            }
            optimizer.step(lr: Float(lr))
            objective.afterOptimizerStep(network, step: iteration)
            iteration += 1
            lossSum += outcome.loss
            seen += b
            var status = String(format: "loss %.4f", lossSum / Double(step + 1))
            if let right = outcome.correct {
                classifies = true
                correct += right
                status += String(format: " acc %.2f%%", 100 * Double(correct) / Double(seen))
            }
            progress.advance(by: b, status: status + String(format: " lr %.4g", lr))
        }
        progress.finish()
        // A step with a finite loss can still leave an infinite update behind (and buffers such as running
        // variances are not in the loss): one pass over every parameter and buffer per epoch is cheap.
        if let (key, _) = network.namedParameters().first(where: { !$0.1.value.allSatisfy(\.isFinite) }) {
            throw diverged("\(key) has non-finite values", step: steps, of: steps)
        }
        epoch += 1
        let seconds = Date().timeIntervalSince(start)
        return EpochReport(epoch: epoch, totalEpochs: totalEpochs, meanLoss: lossSum / Double(max(steps, 1)),
                           accuracy: classifies ? Double(correct) / Double(max(seen, 1)) : nil,
                           learningRate: learningRate, imagesPerSecond: Double(seen) / max(seconds, 1e-9), seconds: seconds)
    }

    /// The sample positions of this epoch: one shuffle (RNG stream = epoch), or, with a fixed epoch length,
    /// as many shuffles as the epoch's batches need, one after another (streams (epoch + 1) << 24 + pass).
    private func epochOrder(count: Int) -> [Int] {
        var rng = SeededGenerator(seed: settings.seed, stream: UInt64(epoch))
        guard objective.stepsPerEpoch != nil else { return Array(0..<objective.sampleCount).shuffled(using: &rng) }
        var order: [Int] = []
        var pass: UInt64 = 0
        while order.count < count {
            var passRNG = SeededGenerator(seed: settings.seed, stream: (UInt64(epoch + 1) << 24) + pass)
            order += Array(0..<objective.sampleCount).shuffled(using: &passRNG)
            pass += 1
        }
        return order
    }

    /// Trains the remaining epochs, calling `afterEpoch` after each (to evaluate, print, checkpoint).
    public func run(afterEpoch: (EpochReport) throws -> Void) throws {
        while !isFinished { try afterEpoch(trainEpoch()) }
    }

    /// The error that stops a diverged run (an internal failure, exit 1: the options were in range).
    private func diverged(_ what: String, step: Int, of steps: Int) -> MTError {
        MTError.failure("training diverged at epoch \(epoch + 1)/\(totalEpochs), step \(step)/\(steps): \(what) "
                        + "(try a smaller learning rate)")
    }

    /// The current state as a checkpoint: network, momentum, progress, the run's options (`arguments`,
    /// JSON) and whatever the objective needs to resume; complete once the step budget is spent.
    public func checkpoint(arguments: String, classNames: [String]) -> Checkpoint {
        var momentum: [String: [Float]] = [:]
        for (index, (key, _)) in optimizer.parameters.enumerated() { momentum[key] = optimizer.buffers[index] }
        var checkpoint = Checkpoint(network: network, momentum: [:], epoch: epoch, iteration: iteration,
                                    arguments: arguments, classNames: classNames, isComplete: isFinished)
        // The network's buffers go to /optimizer/momentum; those of the objective's own heads, which the
        // network's keys do not cover, to /training/momentum.<key> beside the heads' values.
        let networkKeys = Set(network.namedParameters().map(\.0))
        for (key, buffer) in momentum {
            if networkKeys.contains(key) { checkpoint.momentum[key] = buffer } else { checkpoint.trainingState[Self.momentumPrefix + key] = buffer }
        }
        objective.save(into: &checkpoint)
        return checkpoint
    }

    /// Where the momentum of an objective's auxiliary parameter is kept in `trainingState`.
    public static let momentumPrefix = "momentum."
}
