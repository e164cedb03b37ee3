import Foundation

/// Everything that determines a training run; stored in the checkpoint (`args`, JSON) so that `--resume`
/// can refuse to continue a different run.
public struct TrainingOptions: TrainingArguments, Sendable, Equatable {
    public var arch: String
    public var epochs: Int
    /// Total optimiser steps; overrides `epochs` (the last epoch is cut short).
    public var iterations: Int?
    public var batchSize: Int
    public var lr: Double
    public var momentum: Double
    public var weightDecay: Double
    public var nesterov: Bool
    public var schedule: String
    public var labelSmoothing: Double
    public var augmentation: String
    public var seed: UInt64
    public var outputDim: Int?

    public init(arch: String, epochs: Int, iterations: Int?, batchSize: Int, lr: Double, momentum: Double,
                weightDecay: Double, nesterov: Bool, schedule: String, labelSmoothing: Double, augmentation: String,
                seed: UInt64, outputDim: Int?) {
        self.arch = arch
        self.epochs = epochs
        self.iterations = iterations
        self.batchSize = batchSize
        self.lr = lr
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.nesterov = nesterov
        self.schedule = schedule
        self.labelSmoothing = labelSmoothing
        self.augmentation = augmentation
        self.seed = seed
        self.outputDim = outputDim
    }
}

/// The samples a classifier learns from: dataset rows, their (pseudo-)labels and training weights.
public struct TrainingSet: Sendable {
    public var indices: [Int]
    public var labels: [Int32]
    public var weights: [Float]?

    public init(indices: [Int], labels: [Int32], weights: [Float]?) {
        precondition(indices.count == labels.count && (weights?.count ?? indices.count) == indices.count)
        self.indices = indices
        self.labels = labels
        self.weights = weights
    }
}

/// Supervised training of a classifier with SGD: shuffled mini-batches (the last partial batch of an epoch
/// is dropped, so batchnorm never sees a tiny batch), augmentation, weighted label-smoothed cross-entropy,
/// a learning rate set every step from the schedule, and an atomic checkpoint after every epoch.
///
/// Determinism: the epoch's order comes from RNG stream (seed, epoch), the augmentation of each sample
/// from (seed, epoch, position), and every layer reduces in an order that does not depend on the thread
/// count (see `BatchSplit`), so a run — and a resumed run — is fixed by the seed alone.
public final class ClassifierTrainer {
    public let dataset: ImageDataset
    public let set: TrainingSet
    public let options: TrainingOptions
    public let network: Network
    public let optimizer: SGD
    public private(set) var epoch: Int
    public private(set) var iteration: Int
    /// Evaluated after every epoch when given (test accuracy in the epoch line).
    public var evaluation: ImageDataset?
    private let batcher: ImageBatcher
    private let loss: CrossEntropyLoss
    private let schedule: LearningRateSchedule

    /// - Parameters:
    ///   - initial: a fresh network, a pretrained one with a new head, or a resumed checkpoint's.
    ///   - resume: momentum buffers and progress of the run being continued.
    public init(dataset: ImageDataset, set: TrainingSet, options: TrainingOptions, network: Network,
                resume: Checkpoint? = nil) throws {
        guard !set.indices.isEmpty else { throw MTError.usage("no training samples (no labels, split or selection)") }
        self.dataset = dataset
        self.set = set
        self.options = options
        self.network = network
        schedule = try LearningRateSchedule(parsing: options.schedule)
        guard let augmentation = Augmentation(rawValue: options.augmentation) else {
            throw MTError.usage("--augment: expected none, digits or natural, found '\(options.augmentation)'")
        }
        batcher = ImageBatcher(dataset: dataset, mean: network.inputMean, std: network.inputStd, augmentation: augmentation)
        loss = CrossEntropyLoss(labelSmoothing: Float(options.labelSmoothing))
        optimizer = SGD(network.namedParameters(), momentum: Float(options.momentum),
                        weightDecay: Float(options.weightDecay), nesterov: options.nesterov)
        epoch = resume?.epoch ?? 0
        iteration = resume?.iteration ?? 0
        if let resume {
            for (index, (key, _)) in optimizer.parameters.enumerated() {
                if let buffer = resume.momentum[key] { optimizer.buffers[index] = buffer }
            }
        }
    }

    /// Steps per epoch: full batches only (one batch of everything when there are fewer samples than a batch).
    public var stepsPerEpoch: Int { max(1, set.indices.count / options.batchSize) }
    public var totalSteps: Int { options.iterations ?? options.epochs * stepsPerEpoch }
    public var totalEpochs: Int { (totalSteps + stepsPerEpoch - 1) / stepsPerEpoch }
    private var batchSize: Int { min(options.batchSize, set.indices.count) }

    /// One epoch; returns mean loss, training accuracy and images/s.
    public func trainEpoch() -> (loss: Double, accuracy: Double, imagesPerSecond: Double) {
        var rng = SeededGenerator(seed: options.seed, stream: UInt64(epoch))
        let order = Array(0..<set.indices.count).shuffled(using: &rng)
        let steps = min(stepsPerEpoch, totalSteps - iteration)
        let progress = Progress("epoch \(epoch + 1)/\(totalEpochs)", total: steps * batchSize, unit: "img")
        var lossSum = 0.0, correct = 0, seen = 0
        let start = Date()
        for step in 0..<steps {
            let positions = order[(step * batchSize)..<((step + 1) * batchSize)]
            let indices = positions.map { set.indices[$0] }
            let targets = positions.map { set.labels[$0] }
            let weights = set.weights.map { w in positions.map { w[$0] } }
            let input = batcher.batch(indices, seed: options.seed &+ 0x5EED, stream: (UInt64(epoch) << 32) | UInt64(step * batchSize))
            let lr = schedule.rate(base: options.lr, epoch: Double(iteration) / Double(stepsPerEpoch),
                                   total: Double(totalSteps) / Double(stepsPerEpoch))
            let output = network.forward(input, training: true)
            let result = loss(output, targets: targets, weights: weights)
            network.backwardParameters(result.gradient)
            optimizer.step(lr: Float(lr))
            iteration += 1
            lossSum += result.loss
            correct += zip(Self.argmax(output), targets).filter { $0 == Int($1) }.count
            seen += indices.count
            progress.advance(by: indices.count, status: String(format: "loss %.4f acc %.2f%% lr %.4g",
                                                               lossSum / Double(step + 1), 100 * Double(correct) / Double(seen), lr))
        }
        progress.finish()
        epoch += 1
        return (lossSum / Double(max(steps, 1)), Double(correct) / Double(max(seen, 1)),
                Double(seen) / max(Date().timeIntervalSince(start), 1e-9))
    }

    /// Trains the remaining epochs, writing `output` after each; prints one line per epoch.
    public func run(output: String, inputs: [String]) throws {
        while iteration < totalSteps {
            let start = Date()
            let (meanLoss, accuracy, rate) = trainEpoch()
            var line = String(format: "epoch %d/%d loss %.4f acc %.2f%% lr %.4g %.0f img/s", epoch, totalEpochs, meanLoss,
                              100 * accuracy, schedule.rate(base: options.lr, epoch: Double(iteration) / Double(stepsPerEpoch),
                                                            total: Double(totalSteps) / Double(stepsPerEpoch)), rate)
            if let evaluation {
                let logits = NetworkFeatures.run(network, on: evaluation, layer: .output)
                let predicted = Self.argmax(Tensor(shape: [evaluation.count, logits.dimension], data: logits.values))
                let known = evaluation.labels.enumerated().filter { $0.element >= 0 }
                let right = known.filter { predicted[$0.offset] == Int($0.element) }.count
                line += String(format: " test %.2f%%", 100 * Double(right) / Double(max(known.count, 1)))
            }
            Console.note(line + String(format: " (%.1fs)", Date().timeIntervalSince(start)))
            try checkpoint().write(output, inputs: inputs)
        }
    }

    /// The current state as a checkpoint (network, momentum, progress, options).
    public func checkpoint() -> Checkpoint {
        var momentum: [String: [Float]] = [:]
        for (index, (key, _)) in optimizer.parameters.enumerated() { momentum[key] = optimizer.buffers[index] }
        return Checkpoint(network: network, momentum: momentum, epoch: epoch, iteration: iteration,
                          arguments: options.json, classNames: dataset.classNames)
    }

    static func argmax(_ logits: Tensor) -> [Int] {
        let k = logits.sampleSize
        return (0..<logits.batch).map { row in
            var best = 0
            for j in 1..<k where logits.data[row * k + j] > logits.data[row * k + best] { best = j }
            return best
        }
    }
}
