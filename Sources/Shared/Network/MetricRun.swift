import Foundation

/// A metric checkpoint: the ordinary `checkpoint` artifact (so `mt-features extract --model` and
/// `mt-train classifier --init` read it unchanged) plus, for instance discrimination, what `--resume`
/// needs to continue exactly: `/metric/memory` float32 [N, D] (the memory bank) and the attribute
/// `nce_normalizer` (the frozen NCE constant Z; absent until the first NCE step or with the full softmax).
public struct MetricState {
    public var checkpoint: Checkpoint
    public var memory: [Float]?
    public var normalizer: Double?

    public init(checkpoint: Checkpoint, memory: [Float]?, normalizer: Double?) {
        self.checkpoint = checkpoint
        self.memory = memory
        self.normalizer = normalizer
    }

    public func write(_ path: String, inputs: [String]) throws {
        try checkpoint.write(path, inputs: inputs) { file in
            if let memory {
                let d = checkpoint.network.outputDimension
                try file.write("/metric/memory", memory, shape: [memory.count / d, d])
            }
            if let normalizer { try file.setAttribute("nce_normalizer", normalizer) }
        }
    }

    /// Reads a checkpoint written by `write` (bank and Z when present), checking the bank is [N, D].
    public static func read(_ path: String, sampleCount: Int) throws -> MetricState {
        let checkpoint = try Checkpoint.read(path)
        let reader = try ArtifactReader(path, expecting: .checkpoint)
        let d = checkpoint.network.outputDimension
        let memory = try reader.readIfPresent("/metric/memory", as: Float.self, shape: [.fixed(sampleCount), .fixed(d)])?.values
        return MetricState(checkpoint: checkpoint, memory: memory, normalizer: reader.doubleAttribute("nce_normalizer"))
    }
}

/// `mt-train metric`: reads the data, builds (or resumes) the network and trains it.
public enum MetricRun {
    /// - Parameters: `evaluation` a labelled held-out data set for the per-epoch kNN monitor.
    public static func run(dataset path: String, evaluation: String?, output: String, resume: Bool, options: MetricOptions) throws {
        let dataset = try ImageDataset.read(path)
        guard let arch = Architecture(rawValue: options.arch) else {
            throw MTError.usage("--arch: expected one of \(Architecture.allCases.map(\.rawValue).joined(separator: ", ")), found '\(options.arch)'")
        }
        var state: MetricState?
        if resume {
            guard FileManager.default.fileExists(atPath: output) else {
                throw MTError.usage("--resume: \(output) does not exist (run without --resume to start)")
            }
            let stored = try MetricState.read(output, sampleCount: dataset.count)
            let previous = try? JSONDecoder().decode(MetricOptions.self, from: Data(stored.checkpoint.arguments.utf8))
            var comparable = options
            comparable.epochs = previous?.epochs ?? options.epochs
            guard previous == comparable else {
                throw MTError.badInput(output, nil, "expected a metric run with the same options, found \(stored.checkpoint.arguments)")
            }
            if options.objective == .instance, stored.memory == nil {
                throw MTError.badInput(output, "/metric/memory", "missing (an instance-discrimination checkpoint holds its memory bank)")
            }
            state = stored
        }
        let network: Network
        if let state {
            network = state.checkpoint.network
        } else {
            let (mean, std) = ImageBatcher.channelStatistics(dataset)
            let outputs = options.objective == .supervised ? dataset.classCount : options.embeddingDim
            network = Network(arch, inputChannels: dataset.channels, outputDimension: outputs,
                              normalizesOutput: options.objective != .supervised, inputMean: mean, inputStd: std)
            network.initialize(seed: options.seed)
        }
        let trainer = try MetricTrainer(dataset: dataset, options: options, network: network, resume: state)
        if let evaluation { trainer.evaluation = try ImageDataset.read(evaluation) }
        if trainer.epoch >= options.epochs {
            Console.note("\(output): already trained for \(trainer.epoch) epochs")
            return
        }
        let start = Date()
        try trainer.run(output: output, inputs: [path])
        Console.note(String(format: "wrote %@ (%d epochs, %.1fs)", output, trainer.epoch, Date().timeIntervalSince(start)))
    }
}
