import ArgumentParser
import Foundation

extension Architecture: ExpressibleByArgument {}

/// `mt-train classifier`: assembles the training set from the data set, a split and a selection, makes
/// the network (fresh, from `--init`, or resumed), and trains it.
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
    public static func run(_ inputs: Inputs, options requested: TrainingOptions) throws {
        let dataset = try ImageDataset.read(inputs.dataset)
        var options = requested
        if options.augmentation == "auto" {
            options.augmentation = Augmentation.automatic(channels: dataset.channels, height: dataset.height).rawValue
        }
        let set = try trainingSet(dataset, split: inputs.split, selection: inputs.selection)
        guard let arch = Architecture(rawValue: options.arch) else { throw MTError.usage("unknown --arch \(options.arch)") }
        let classes = options.outputDim ?? dataset.classCount
        if let bad = set.labels.first(where: { $0 < 0 || Int($0) >= classes }) {
            throw MTError.badInput(inputs.selection ?? inputs.split ?? inputs.dataset, "/labels", "expected labels in 0..<\(classes), found \(bad)")
        }
        var resumed: Checkpoint?
        if inputs.resume, FileManager.default.fileExists(atPath: inputs.output) {
            let checkpoint = try Checkpoint.read(inputs.output)
            guard let stored = try? JSONDecoder().decode(TrainingOptions.self, from: Data(checkpoint.arguments.utf8)), stored == options else {
                throw MTError.badInput(inputs.output, nil, "expected a checkpoint of the same run to resume (options \(options.json)), found \(checkpoint.arguments)")
            }
            resumed = checkpoint
            Console.note("resuming \(inputs.output) after epoch \(checkpoint.epoch)")
        }
        let network: Network
        if let resumed {
            network = resumed.network
        } else if let initFrom = inputs.initFrom {
            let pretrained = try Checkpoint.read(initFrom).network
            guard pretrained.architecture == arch, pretrained.inputChannels == dataset.channels else {
                throw MTError.badInput(initFrom, nil, "expected a \(arch.rawValue) on \(dataset.channels) channels, found \(pretrained.architecture.rawValue) on \(pretrained.inputChannels)")
            }
            network = pretrained.replaceHead(outputDimension: classes, seed: options.seed)
        } else {
            let (mean, std) = ImageBatcher.channelStatistics(dataset)
            network = Network(arch, inputChannels: dataset.channels, outputDimension: classes, inputMean: mean, inputStd: std)
            network.initialize(seed: options.seed)
        }
        let trainer = try ClassifierTrainer(dataset: dataset, set: set, options: options, network: network, resume: resumed)
        if let evaluation = inputs.evaluation { trainer.evaluation = try ImageDataset.read(evaluation) }
        Console.note("training \(arch.rawValue) on \(set.indices.count) samples, \(trainer.totalEpochs) epochs of \(trainer.stepsPerEpoch) steps")
        let start = Date()
        try trainer.run(output: inputs.output, inputs: [inputs.dataset, inputs.split, inputs.selection, inputs.initFrom].compactMap { $0 })
        Console.note(String(format: "wrote %@ (%.1fs)", inputs.output, Date().timeIntervalSince(start)))
    }

    /// The labelled samples of the split (or, without split and selection, every sample with a label),
    /// weight 1, plus the selection's samples with their pseudo-labels and weights; a sample both labelled
    /// and selected keeps its given label.
    public static func trainingSet(_ dataset: ImageDataset, split: String?, selection: String?) throws -> TrainingSet {
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
        if let selection {
            let chosen = try readSelection(selection, sampleCount: dataset.count)
            let labelled = Set(indices)
            for (position, index) in chosen.indices.enumerated() where !labelled.contains(index) {
                indices.append(index)
                labels.append(chosen.labels[position])
                weights.append(chosen.weights[position])
            }
        }
        return TrainingSet(indices: indices, labels: labels, weights: weights.allSatisfy { $0 == 1 } ? nil : weights)
    }

    /// The `selection` artifact: `/index` int64 [M], `/labels` int32 [M], `/weights` float32 [M].
    static func readSelection(_ path: String, sampleCount: Int) throws -> (indices: [Int], labels: [Int32], weights: [Float]) {
        let reader = try ArtifactReader(path, expecting: .selection)
        let index = try reader.read("/index", as: Int64.self, shape: ["M"])
        let labels = try reader.read("/labels", as: Int32.self, shape: ["M"])
        let weights = try reader.readIfPresent("/weights", as: Float.self, shape: ["M"])?.values
            ?? [Float](repeating: 1, count: labels.values.count)
        if let bad = index.values.first(where: { $0 < 0 || $0 >= sampleCount }) {
            throw MTError.badInput(path, "/index", "expected indices in 0..<\(sampleCount), found \(bad)")
        }
        return (index.values.map { Int($0) }, labels.values, weights)
    }
}
