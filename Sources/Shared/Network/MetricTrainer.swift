import ArgumentParser
import Foundation

/// What a metric network is trained to do.
public enum MetricObjective: String, CaseIterable, Codable, Sendable, ExpressibleByArgument {
    /// Instance discrimination (Wu et al. 2018): every image its own class, a memory bank of all N
    /// embeddings, NCE with K noise rows (or the full softmax when K = 0).
    case instance
    /// SimCLR (Chen et al. 2020): two augmented views per image, in-batch NT-Xent.
    case simclr
    /// Metric transfer: a classifier trained on the labels of this (another) data set; its penultimate
    /// layer is the embedding.
    case supervised
}

/// Everything that determines a metric training run; stored in the checkpoint (`args`, JSON) so that
/// `--resume` can refuse to continue a different run.
public struct MetricOptions: TrainingArguments, Sendable, Equatable {
    public var arch: String
    public var objective: MetricObjective
    public var epochs: Int
    public var batchSize: Int
    public var lr: Double
    public var momentum: Double
    public var weightDecay: Double
    public var nesterov: Bool
    public var schedule: String
    /// Linear lr warm-up from 0 over this many epochs (fractional allowed), multiplied onto the schedule.
    public var warmupEpochs: Double
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
    public var seed: UInt64

    public init(arch: String, objective: MetricObjective, epochs: Int, batchSize: Int, lr: Double, momentum: Double,
                weightDecay: Double, nesterov: Bool, schedule: String, warmupEpochs: Double, embeddingDim: Int,
                negatives: Int, temperature: Double, bankMomentum: Double, bankInit: String, normalizer: String, augmentation: String,
                seed: UInt64) {
        self.arch = arch
        self.objective = objective
        self.epochs = epochs
        self.batchSize = batchSize
        self.lr = lr
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.nesterov = nesterov
        self.schedule = schedule
        self.warmupEpochs = warmupEpochs
        self.embeddingDim = embeddingDim
        self.negatives = negatives
        self.temperature = temperature
        self.bankMomentum = bankMomentum
        self.bankInit = bankInit
        self.normalizer = normalizer
        self.augmentation = augmentation
        self.seed = seed
    }
}

/// Trains a metric network with SGD: shuffled mini-batches (last partial batch dropped), strong
/// augmentation, the objective's loss, the learning rate from warm-up x schedule every step, and after each
/// epoch a 200-NN monitor on a held-out set plus the mean pairwise cosine of its embeddings (the collapse
/// detector: near 1 when all embeddings point the same way).
///
/// Determinism: epoch order from RNG stream (seed, epoch), augmentation per sample from
/// (seed, epoch, position), NCE noise from (seed, iteration, sample): fixed by the seed and thread count,
/// and a resumed run continues exactly (the bank and Z are checkpointed).
public final class MetricTrainer {
    public let dataset: ImageDataset
    public let options: MetricOptions
    public let network: Network
    public let optimizer: SGD
    public let bank: MemoryBank?
    public private(set) var epoch: Int
    public private(set) var iteration: Int
    /// Held-out images for the kNN monitor (training images with labels are the reference set).
    public var evaluation: ImageDataset?
    private var nce: NCELoss
    private let augmenter: MetricAugmenter
    private let schedule: LearningRateSchedule

    /// - Parameter resume: the checkpoint being continued (network already loaded into `network`).
    public init(dataset: ImageDataset, options: MetricOptions, network: Network, resume: MetricState? = nil) throws {
        guard dataset.count >= 2 else { throw MTError.usage("metric training needs at least 2 images, found \(dataset.count)") }
        if options.objective == .supervised, !dataset.labels.contains(where: { $0 >= 0 }) {
            throw MTError.usage("--objective supervised needs labels in the training data set")
        }
        self.dataset = dataset
        self.options = options
        self.network = network
        schedule = try LearningRateSchedule(parsing: options.schedule)
        let kind: Augmentation
        if options.augmentation == "auto" {
            kind = .automatic(channels: dataset.channels, height: dataset.height)
        } else if let chosen = Augmentation(rawValue: options.augmentation) {
            kind = chosen
        } else {
            throw MTError.usage("--augment: expected auto, none, digits or natural, found '\(options.augmentation)'")
        }
        augmenter = MetricAugmenter(dataset: dataset, mean: network.inputMean, std: network.inputStd, kind: kind)
        optimizer = SGD(network.namedParameters(), momentum: Float(options.momentum),
                        weightDecay: Float(options.weightDecay), nesterov: options.nesterov)
        nce = NCELoss(noiseCount: min(options.negatives, dataset.count), temperature: options.temperature,
                      normalizer: resume?.normalizer, refreshesNormalizer: options.normalizer == "batch")
        epoch = resume?.checkpoint.epoch ?? 0
        iteration = resume?.checkpoint.iteration ?? 0
        if options.objective == .instance {
            let bank = MemoryBank(count: dataset.count, dimension: options.embeddingDim, momentum: Float(options.bankMomentum))
            if let stored = resume?.memory {
                bank.values = stored
            } else if options.bankInit == "random" {
                bank.initializeRandom(seed: options.seed)
            } else {
                bank.initialize(from: NetworkFeatures.run(network, on: dataset, layer: .output, progressLabel: "bank init").values)
            }
            self.bank = bank
        } else {
            bank = nil
        }
        if let resume {
            for (index, (key, _)) in optimizer.parameters.enumerated() {
                if let buffer = resume.checkpoint.momentum[key] { optimizer.buffers[index] = buffer }
            }
        }
    }

    public var stepsPerEpoch: Int { max(1, dataset.count / batchSize) }
    private var batchSize: Int { min(options.batchSize, dataset.count) }

    /// Warm-up x schedule at the current iteration.
    public var learningRate: Double {
        let t = Double(iteration) / Double(stepsPerEpoch)
        let warm = options.warmupEpochs > 0 ? min(1, (t + 1 / Double(stepsPerEpoch)) / options.warmupEpochs) : 1
        return warm * schedule.rate(base: options.lr, epoch: t, total: Double(options.epochs))
    }

    /// One epoch; returns mean loss and images/s.
    public func trainEpoch() -> (loss: Double, imagesPerSecond: Double) {
        var rng = SeededGenerator(seed: options.seed, stream: UInt64(epoch))
        let order = Array(0..<dataset.count).shuffled(using: &rng)
        let steps = stepsPerEpoch, b = batchSize
        let progress = Progress("epoch \(epoch + 1)/\(options.epochs)", total: steps * b, unit: "img")
        var lossSum = 0.0
        let start = Date()
        let crossEntropy = CrossEntropyLoss()
        let augmentSeed = options.seed &+ 0x5EED
        for step in 0..<steps {
            let indices = Array(order[(step * b)..<((step + 1) * b)])
            let stream = (UInt64(epoch) << 32) | UInt64(step * b)
            let lr = learningRate
            let loss: Double
            switch options.objective {
            case .instance:
                let output = network.forward(augmenter.batch(indices, seed: augmentSeed, stream: stream), training: true)
                let result = nce(output, indices: indices, bank: bank!, seed: options.seed, step: UInt64(iteration))
                network.backwardParameters(result.gradient)
                bank!.update(indices: indices, embeddings: output)
                loss = result.loss
            case .simclr:
                var views = augmenter.batch(indices, seed: augmentSeed, stream: stream)
                let second = augmenter.batch(indices, seed: augmentSeed, stream: stream | (1 << 31))
                views.data += second.data
                views.shape[0] *= 2
                let result = NTXentLoss(temperature: options.temperature)(network.forward(views, training: true))
                network.backwardParameters(result.gradient)
                loss = result.loss
            case .supervised:
                let output = network.forward(augmenter.batch(indices, seed: augmentSeed, stream: stream), training: true)
                let result = crossEntropy(output, targets: indices.map { dataset.labels[$0] })
                network.backwardParameters(result.gradient)
                loss = result.loss
            }
            optimizer.step(lr: Float(lr))
            iteration += 1
            lossSum += loss
            progress.advance(by: b, status: String(format: "loss %.4f lr %.4g", lossSum / Double(step + 1), lr))
        }
        progress.finish()
        epoch += 1
        return (lossSum / Double(steps), Double(steps * b) / max(Date().timeIntervalSince(start), 1e-9))
    }

    /// The embedding the metric is used through: the normalised output for instance/simclr, the
    /// penultimate layer for a supervised classifier (rows L2-normalised).
    public var embeddingLayer: FeatureLayer { options.objective == .supervised ? .penultimate : .output }

    /// 200-NN accuracy (T = 0.07) of the held-out set against the training images and the mean pairwise
    /// cosine of the held-out embeddings; nil without a labelled held-out set.
    public func monitor() -> (accuracy: Double?, meanCosine: Double)? {
        guard let evaluation else { return nil }
        func embed(_ images: ImageDataset) -> (values: [Float], dimension: Int) {
            var (values, d) = NetworkFeatures.run(network, on: images, layer: embeddingLayer)
            RowOps.normalize(&values, rows: images.count, dimension: d)
            return (values, d)
        }
        let queries = embed(evaluation)
        let cosine = MemoryBank.meanPairwiseCosine(queries.values, count: evaluation.count, dimension: queries.dimension)
        var accuracy: Double?
        if dataset.labels.contains(where: { $0 >= 0 }) {
            accuracy = KNNMonitor.accuracy(reference: embed(dataset).values, referenceLabels: dataset.labels,
                                           queries: queries.values, queryLabels: evaluation.labels, dimension: queries.dimension)
        }
        return (accuracy, cosine)
    }

    /// Trains the remaining epochs; after each prints one line (loss, lr, images/s, kNN accuracy, mean
    /// cosine, seconds) and writes the checkpoint atomically. A fresh run first prints the monitor of the
    /// untrained network ("epoch 0"), the baseline the epochs are compared with.
    public func run(output: String, inputs: [String]) throws {
        if epoch == 0, let (accuracy, cosine) = monitor() {
            Console.note("epoch 0" + (accuracy.map { String(format: " knn200 %.2f%%", 100 * $0) } ?? "") + String(format: " cos %.3f", cosine))
        }
        while epoch < options.epochs {
            let start = Date()
            let (meanLoss, rate) = trainEpoch()
            let trained = Date().timeIntervalSince(start)
            var line = String(format: "epoch %d/%d loss %.4f lr %.4g %.0f img/s train %.1fs", epoch, options.epochs,
                              meanLoss, learningRate, rate, trained)
            if let (accuracy, cosine) = monitor() {
                if let accuracy { line += String(format: " knn200 %.2f%%", 100 * accuracy) }
                line += String(format: " cos %.3f", cosine)
            }
            Console.note(line + String(format: " (%.1fs)", Date().timeIntervalSince(start)))
            try state().write(output, inputs: inputs)
        }
    }

    /// The current state (network, momentum, progress, options, memory bank, NCE normaliser).
    public func state() -> MetricState {
        var momentum: [String: [Float]] = [:]
        for (index, (key, _)) in optimizer.parameters.enumerated() { momentum[key] = optimizer.buffers[index] }
        let checkpoint = Checkpoint(network: network, momentum: momentum, epoch: epoch, iteration: iteration,
                                    arguments: options.json, classNames: options.objective == .supervised ? dataset.classNames : [])
        return MetricState(checkpoint: checkpoint, memory: bank?.values, normalizer: nce.normalizer)
    }
}
