import Foundation
import MTAlgorithms
import MTCore
import MTNetwork
import MTStorage

/// What the two `mt-train` training subcommands share around the one training loop (`Trainer`): resuming,
/// a line per epoch with the caller's evaluation, and the checkpoints.
///
/// Nothing lost, nothing half-done that looks finished: every epoch's checkpoint goes to the partial file
/// beside `-o` (`model.partial.h5` for `-o model.h5`, attribute `complete` = 0); `-o` is written once, when
/// the run is done (`complete` = 1), and the partial file is then removed. An interrupted run leaves any
/// earlier `-o` as it was. `--resume` means the same in both subcommands: continue the partial file if there
/// is one, else the complete `-o` (same options; `--epochs`/`--iterations` may grow), else start fresh with
/// a note.
enum TrainingRun {
    /// The checkpoint to continue, or nil for a fresh start; refuses a checkpoint of a different run.
    static func resumable<Options: TrainingArguments>(_ output: String, resume: Bool, options: Options) throws -> Checkpoint? {
        let partial = Checkpoint.partialPath(of: output)
        guard resume else {
            if fileExists(partial) { Console.note("\(partial): an unfinished run; starting over (--resume continues it)") }
            return nil
        }
        guard let source = [partial, output].first(where: fileExists) else {
            Console.note("--resume: neither \(partial) nor \(output) exists yet; starting a new run")
            return nil
        }
        let checkpoint = try Checkpoint.load(source)
        guard let stored = try? JSONDecoder().decode(Options.self, from: Data(checkpoint.arguments.utf8)),
              options.canResume(stored) else {
            throw MTError.badInput(source, nil, "expected a checkpoint of the same run to resume (same options; only --epochs/--iterations may grow: \(options.json)), found \(checkpoint.arguments)")
        }
        Console.note(source == partial ? "resuming the unfinished run in \(partial) after epoch \(checkpoint.epoch)"
                                       : "continuing \(output) after epoch \(checkpoint.epoch)")
        return checkpoint
    }

    /// True when the resumed run has no epochs left. A run resumed from the partial file (stopped after
    /// its last epoch, or resumed with fewer epochs) is then the finished model: written to `output`, so
    /// that exit 0 always leaves `output` in place.
    static func finishedAlready(_ trainer: Trainer, arguments: String, classNames: [String], output: String, inputs: [String]) throws -> Bool {
        guard trainer.isFinished else { return false }
        let partial = Checkpoint.partialPath(of: output)
        if fileExists(partial) {
            try trainer.checkpoint(arguments: arguments, classNames: classNames).save(output, inputs: inputs)
            try? FileManager.default.removeItem(atPath: partial)
            Console.note("\(partial): all \(trainer.epoch) epochs were done; wrote it as \(output)")
        } else {
            Console.note("\(output): already trained for \(trainer.epoch) epochs")
        }
        return true
    }

    /// Trains the remaining epochs; after each prints one line (loss, accuracy, lr, images/s, what
    /// `evaluate` adds, seconds) and writes the checkpoint atomically: to the partial file while epochs
    /// remain, to `output` after the last (then the partial file goes).
    static func train(_ trainer: Trainer, arguments: String, classNames: [String], output: String, inputs: [String],
                      evaluate: (Network) throws -> String) throws {
        let partial = Checkpoint.partialPath(of: output)
        try trainer.run { report in
            var line = String(format: "epoch %d/%d loss %.4f", report.epoch, report.totalEpochs, report.meanLoss)
            if let accuracy = report.accuracy { line += String(format: " acc %.2f%%", 100 * accuracy) }
            line += String(format: " lr %.4g %.0f img/s train %.1fs", report.learningRate, report.imagesPerSecond, report.seconds)
            let start = Date()
            line += try evaluate(trainer.network)
            Console.note(line + String(format: " (%.1fs)", report.seconds + Date().timeIntervalSince(start)))
            let checkpoint = trainer.checkpoint(arguments: arguments, classNames: classNames)
            try checkpoint.save(checkpoint.isComplete ? output : partial, inputs: inputs)
        }
        if fileExists(partial) {
            // Left behind, a stale partial file would be what the next --resume continues.
            do { try FileManager.default.removeItem(atPath: partial) } catch {
                Console.warn("\(partial): cannot remove the finished run's epoch checkpoint: \(error.localizedDescription)")
            }
        }
    }

    /// Resolves `auto` to the augmentation the data set's images call for.
    static func augmentation(_ name: String, for dataset: ImageDataset) throws -> Augmentation {
        if name == "auto" { return .automatic(channels: dataset.channels, height: dataset.height) }
        guard let chosen = Augmentation(rawValue: name) else {
            throw MTError.usage("--augment: expected auto, none, digits or natural, found '\(name)'")
        }
        return chosen
    }

    static func architecture(_ name: String) throws -> Architecture {
        guard let arch = Architecture(rawValue: name) else {
            throw MTError.usage("--arch: expected one of \(Architecture.allCases.map(\.rawValue).joined(separator: ", ")), found '\(name)'")
        }
        return arch
    }

    /// Test accuracy of `network`'s predictions on a labelled data set, for the epoch line.
    static func testAccuracy(_ network: Network, on evaluation: ImageDataset) -> String {
        let logits = NetworkFeatures.run(network, on: evaluation, layer: .output)
        let predicted = Argmax.rows(logits.values, columns: logits.dimension)
        let known = evaluation.labels.indices.filter { evaluation.labels[$0] >= 0 }
        let right = known.filter { predicted[$0] == Int(evaluation.labels[$0]) }.count
        return String(format: " test %.2f%%", 100 * Double(right) / Double(max(known.count, 1)))
    }
}

/// `mt-train classifier`: assembles the training set from the data set, a split and a selection, makes
/// the network (fresh, from `--init`, or resumed), and trains it with weighted cross-entropy.
public enum ClassifierRun {
    public struct Inputs {
        public var dataset: String
        public var split: String?
        public var selection: String?
        public var initFrom: String?
        public var evaluation: String?
        public var output: String
        public var resume: Bool

        public init(dataset: String, split: String?, selection: String?, initFrom: String?, evaluation: String?,
                    output: String, resume: Bool) {
            self.dataset = dataset
            self.split = split
            self.selection = selection
            self.initFrom = initFrom
            self.evaluation = evaluation
            self.output = output
            self.resume = resume
        }
    }

    /// `options.augmentation` may be `auto`: resolved from the data set (`Augmentation.automatic`).
    public static func run(_ inputs: Inputs, options requested: ClassifierOptions) throws {
        // Checked before training rather than at the first checkpoint; the held-out set is read too.
        try OutputPath.check(inputs.output, inputs: [inputs.dataset, inputs.split, inputs.selection, inputs.initFrom,
                                                     inputs.evaluation].compactMap { $0 })
        let dataset = try ImageDataset.read(inputs.dataset)
        var options = requested
        let augmentation = try TrainingRun.augmentation(options.augmentation, for: dataset)
        options.augmentation = augmentation.rawValue
        let arch = try TrainingRun.architecture(options.arch)
        let classes = options.outputDim ?? dataset.classCount
        let set = try trainingSet(dataset, split: inputs.split, selection: inputs.selection,
                                  softClasses: options.softTemperature == nil ? nil : classes)
        if let bad = set.labels.first(where: { $0 < 0 || Int($0) >= classes }) {
            throw MTError.badInput(inputs.selection ?? inputs.split ?? inputs.dataset, "/labels", "expected labels in 0..<\(classes), found \(bad)")
        }
        let resumed = try TrainingRun.resumable(inputs.output, resume: inputs.resume, options: options)
        let network = try resumed?.network
            ?? startingNetwork(arch, dataset: dataset, classes: classes, initFrom: inputs.initFrom, seed: options.optimizer.seed)
        let batcher = ImageBatcher(dataset: dataset, mean: network.inputMean, std: network.inputStd, augmentation: augmentation)
        let objective = CrossEntropyObjective(set: set, views: batcher, labelSmoothing: options.labelSmoothing,
                                              softTemperature: options.softTemperature ?? 1)
        let trainer = try Trainer(network: network, objective: objective, settings: options.optimizer, resume: resumed)
        let evaluation = try inputs.evaluation.map { try ImageDataset.read($0) }
        let trainingInputs = [inputs.dataset, inputs.split, inputs.selection, inputs.initFrom].compactMap { $0 }
        if try TrainingRun.finishedAlready(trainer, arguments: options.json, classNames: dataset.classNames,
                                           output: inputs.output, inputs: trainingInputs) { return }
        Console.note("training \(arch.rawValue) on \(set.indices.count) samples: \(trainer.totalSteps) steps, "
                     + "\(trainer.totalEpochs) epoch\(trainer.totalEpochs == 1 ? "" : "s") of up to \(trainer.stepsPerEpoch)")
        let start = Date()
        try TrainingRun.train(trainer, arguments: options.json, classNames: dataset.classNames, output: inputs.output,
                              inputs: trainingInputs) { network in
            evaluation.map { TrainingRun.testAccuracy(network, on: $0) } ?? ""
        }
        Console.note(String(format: "wrote %@ (%.1fs)", inputs.output, Date().timeIntervalSince(start)))
    }

    /// A classifier to start training from: the body of `initFrom` (a trained checkpoint of the same
    /// architecture and channels) with a new head, or a fresh network normalised to the data set.
    public static func startingNetwork(_ arch: Architecture, dataset: ImageDataset, classes: Int, initFrom: String?,
                                       seed: UInt64) throws -> Network {
        if let initFrom {
            let pretrained = try Checkpoint.loadTrained(initFrom).network
            guard pretrained.architecture == arch, pretrained.inputChannels == dataset.channels else {
                throw MTError.badInput(initFrom, nil, "expected a \(arch.rawValue) on \(dataset.channels) channels, found \(pretrained.architecture.rawValue) on \(pretrained.inputChannels)")
            }
            return pretrained.replaceHead(outputDimension: classes, seed: seed)
        }
        let (mean, std) = ImageBatcher.channelStatistics(dataset)
        let network = Network(arch, inputChannels: dataset.channels, outputDimension: classes, inputMean: mean, inputStd: std)
        network.initialize(seed: seed)
        return network
    }

    /// The labelled samples of the split (or, without split and selection, every sample with a label),
    /// weight 1, plus the selection's samples with their pseudo-labels and weights; a sample both labelled
    /// and selected keeps its given label.
    /// - Parameter softClasses: with soft targets, the class count: labelled samples get one-hot rows and the
    ///   selection's entries its `/probs` rows (refused when it has none).
    public static func trainingSet(_ dataset: ImageDataset, split: String?, selection: String?, softClasses: Int? = nil) throws -> TrainingSet {
        var indices: [Int] = [], labels: [Int32] = []
        if let split {
            let s = try Split.read(split, sampleCount: dataset.count)
            indices = s.labeled
            labels = s.labeledLabels
        } else if selection == nil {
            for (i, label) in dataset.labels.enumerated() where label >= 0 {
                indices.append(i)
                labels.append(label)
            }
        }
        var weights = [Float](repeating: 1, count: indices.count)
        var distributions: [Float]? = softClasses.map { k in
            labels.flatMap { label in (0..<k).map { $0 == Int(label) ? Float(1) : 0 } }
        }
        if let selection {
            let chosen = try Selection.read(selection)
            if let bad = chosen.index.first(where: { $0 >= dataset.count }) {
                throw MTError.badInput(selection, "/index", "expected indices into the \(dataset.count) samples of \(dataset.name), found \(bad)")
            }
            if let k = softClasses, chosen.probs == nil || chosen.classCount != k {
                throw MTError.badInput(selection, "/probs", chosen.probs == nil
                    ? "expected float32 [M, \(k)] soft targets for --targets soft, found none (select again with mt-select pseudo)"
                    : "expected [M, \(k)] soft targets (the model's classes), found \(chosen.classCount) columns")
            }
            let labelled = Set(indices)
            for (position, index) in chosen.index.enumerated() where !labelled.contains(index) {
                indices.append(index)
                labels.append(chosen.labels[position])
                weights.append(chosen.weights[position])
                if let k = softClasses, let probs = chosen.probs { distributions! += probs[(position * k)..<((position + 1) * k)] }
            }
        }
        var set = TrainingSet(indices: indices, labels: labels, weights: weights.allSatisfy { $0 == 1 } ? nil : weights)
        set.distributions = distributions
        return set
    }
}

/// `mt-train metric`: reads the data, builds (or resumes) the network and trains it towards the chosen
/// objective; after every epoch a 200-NN monitor on a held-out set plus the mean pairwise cosine of its
/// embeddings (the collapse detector: near 1 when all embeddings point the same way).
public enum MetricRun {
    /// - Parameters: `evaluation` a labelled held-out data set for the per-epoch kNN monitor.
    public static func run(dataset path: String, evaluation: String?, output: String, resume: Bool, options requested: MetricOptions) throws {
        // Checked before training rather than at the first checkpoint; the held-out set is read too.
        try OutputPath.check(output, inputs: [path] + (evaluation.map { [$0] } ?? []))
        let dataset = try ImageDataset.read(path)
        var options = requested
        guard dataset.count >= 2 else { throw MTError.usage("metric training needs at least 2 images, found \(dataset.count)") }
        if options.objective == .selflabel, let k = options.clusters, dataset.count < k {
            throw MTError.badInput(path, "/images", "expected at least --clusters \(k) images to partition, found \(dataset.count)")
        }
        let arch = try TrainingRun.architecture(options.arch)
        let augmentation = try TrainingRun.augmentation(options.augmentation, for: dataset)
        options.augmentation = augmentation.rawValue
        let labeled = TrainingSet.labeled(dataset.labels)
        if options.objective == .supervised, labeled.indices.isEmpty {
            throw MTError.usage("--objective supervised needs labels in the training data set")
        }
        let state = try TrainingRun.resumable(output, resume: resume, options: options)
        if options.objective == .instance, let state, state.memoryBank?.count != dataset.count * options.embeddingDim {
            throw MTError.badInput(output, "/metric/memory", "expected float32 [\(dataset.count), \(options.embeddingDim)] (an instance-discrimination checkpoint holds its memory bank)")
        }
        let network: Network
        if let state {
            network = state.network
        } else {
            let (mean, std) = ImageBatcher.channelStatistics(dataset)
            let outputs = switch options.objective {
            case .supervised: dataset.classCount
            case .selflabel: options.clusters ?? 10
            case .instance, .simclr: options.embeddingDim
            }
            network = Network(arch, inputChannels: dataset.channels, outputDimension: outputs,
                              normalizesOutput: options.objective == .instance || options.objective == .simclr, inputMean: mean, inputStd: std)
            network.initialize(seed: options.optimizer.seed)
        }
        let trainer = try makeTrainer(dataset: dataset, options: options, augmentation: augmentation, network: network, resume: state,
                                      output: output)
        let classNames = options.objective == .supervised ? dataset.classNames : []
        if try TrainingRun.finishedAlready(trainer, arguments: options.json, classNames: classNames, output: output, inputs: [path]) { return }
        let held = try evaluation.map { try ImageDataset.read($0) }
        let monitor = { (network: Network) throws -> String in
            guard let held else { return "" }
            return try monitorLine(network, layer: options.embeddingLayer, training: dataset, evaluation: held)
        }
        if trainer.epoch == 0, held != nil { Console.note("epoch 0" + (try monitor(network))) }
        let start = Date()
        try TrainingRun.train(trainer, arguments: options.json, classNames: classNames,
                              output: output, inputs: [path], evaluate: monitor)
        Console.note(String(format: "wrote %@ (%d epochs, %.1fs)", output, trainer.epoch, Date().timeIntervalSince(start)))
    }

    /// The training loop configured for `options.objective` on `dataset`: strong metric augmentation, and
    /// NCE with a memory bank, NT-Xent, or cross-entropy on the labelled samples.
    static func makeTrainer(dataset: ImageDataset, options: MetricOptions, augmentation: Augmentation, network: Network,
                            resume state: Checkpoint?, output: String = "the checkpoint") throws -> Trainer {
        let views = MetricAugmenter(dataset: dataset, mean: network.inputMean, std: network.inputStd, kind: augmentation)
        let objective: any TrainingObjective
        switch options.objective {
        case .instance:
            let bank = MemoryBank(count: dataset.count, dimension: options.embeddingDim, momentum: Float(options.bankMomentum))
            if let stored = state?.memoryBank {
                bank.values = stored
            } else if options.bankInit == "random" {
                bank.initializeRandom(seed: options.optimizer.seed)
            } else {
                bank.initialize(from: NetworkFeatures.run(network, on: dataset, layer: .output, progressLabel: "bank init").values)
            }
            let nce = NCELoss(noiseCount: min(options.negatives, dataset.count), temperature: options.temperature,
                              normalizer: state?.nceNormalizer, refreshesNormalizer: options.normalizer == "batch")
            objective = InstanceDiscriminationObjective(bank: bank, views: views, nce: nce, seed: options.optimizer.seed)
        case .simclr:
            objective = SimCLRObjective(sampleCount: dataset.count, views: views, temperature: options.temperature)
        case .supervised:
            objective = CrossEntropyObjective(set: TrainingSet.labeled(dataset.labels), views: views)
        case .selflabel:
            let selfLabel = SelfLabelObjective(views: views, dataset: dataset, network: network, heads: options.heads ?? 1,
                                               labelUpdates: options.labelUpdates ?? 1, lambda: options.sinkhornLambda ?? 25,
                                               seed: options.optimizer.seed)
            if let state {
                try selfLabel.restore(state.trainingState, source: [Checkpoint.partialPath(of: output), output].first(where: fileExists) ?? output)
            }
            let trainer = try Trainer(network: network, objective: selfLabel, settings: options.optimizer, resume: state)
            selfLabel.totalSteps = trainer.totalSteps
            return trainer
        }
        return try Trainer(network: network, objective: objective, settings: options.optimizer, resume: state)
    }

    /// " knn200 A% cos C": the 200-NN accuracy (T = 0.07) of the held-out images against the training
    /// images, and the mean pairwise cosine of the held-out embeddings.
    static func monitorLine(_ network: Network, layer: FeatureLayer, training: ImageDataset, evaluation: ImageDataset) throws -> String {
        func embed(_ images: ImageDataset) -> (values: [Float], dimension: Int) {
            var (values, d) = NetworkFeatures.run(network, on: images, layer: layer)
            RowOps.normalize(&values, rows: images.count, dimension: d)
            return (values, d)
        }
        let queries = embed(evaluation)
        var line = ""
        if training.labels.contains(where: { $0 >= 0 }), let accuracy = try KNNVoting.accuracy(
            queries: queries.values, queryLabels: evaluation.labels, reference: embed(training).values,
            referenceLabels: training.labels, dimension: queries.dimension) {
            line += String(format: " knn200 %.2f%%", 100 * accuracy)
        }
        let cosine = MemoryBank.meanPairwiseCosine(queries.values, count: evaluation.count, dimension: queries.dimension)
        return line + String(format: " cos %.3f", cosine)
    }
}
