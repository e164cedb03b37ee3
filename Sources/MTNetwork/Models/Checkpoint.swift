import MTCore

/// A network with its training progress: what a training run holds in memory and what a `checkpoint`
/// artifact stores (`CheckpointRecord`, read and written by MTStorage). Converting checks the record
/// against the architecture: a missing key, an unexpected key or a shape that differs is refused.
public struct Checkpoint {
    public var network: Network
    public var momentum: [String: [Float]]
    public var epoch: Int
    public var iteration: Int
    /// The training options as JSON (what `--resume` checks and continues).
    public var arguments: String
    public var classNames: [String]
    /// Instance discrimination's memory bank [N, D] and frozen NCE normaliser, for an exact resume.
    public var memoryBank: [Float]?
    public var nceNormalizer: Double?
    /// What a training method needs beyond these to resume exactly (`CheckpointRecord.trainingState`).
    public var trainingState: [String: [Float]] = [:]
    /// False for an epoch checkpoint of a run still in progress: resumable, not a trained model.
    public var isComplete: Bool

    public init(network: Network, momentum: [String: [Float]] = [:], epoch: Int = 0, iteration: Int = 0,
                arguments: String = "{}", classNames: [String] = [], memoryBank: [Float]? = nil, nceNormalizer: Double? = nil,
                isComplete: Bool = true) {
        self.network = network
        self.momentum = momentum
        self.epoch = epoch
        self.iteration = iteration
        self.arguments = arguments
        self.classNames = classNames
        self.memoryBank = memoryBank
        self.nceNormalizer = nceNormalizer
        self.isComplete = isComplete
    }

    /// Builds the network a record describes, with every parameter and buffer loaded; `source` names the
    /// file in errors.
    public init(restoring record: CheckpointRecord, source: String) throws {
        let names = Architecture.allCases.map(\.rawValue).joined(separator: ", ")
        guard let arch = Architecture(rawValue: record.architecture) else {
            throw MTError.badInput(source, nil, "expected arch one of \(names), found '\(record.architecture)'")
        }
        let outputs: Int
        if let stored = record.outputDimension {
            outputs = stored
        } else if let bias = record.tensor("\(arch.headName).bias") {
            outputs = bias.shape.first ?? 0
        } else {
            throw MTError.badInput(source, "/state/\(arch.headName).bias", "missing (expected the head's bias, or attribute output_dim)")
        }
        let network = Network(arch, inputChannels: record.inputChannels, outputDimension: outputs,
                              normalizesOutput: record.normalizesOutput, inputMean: record.inputMean, inputStd: record.inputStd)
        let expected = network.namedParameters()
        let stored = Dictionary(record.state.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        if let extra = Set(stored.keys).subtracting(expected.map(\.0)).sorted().first {
            throw MTError.badInput(source, "/state/" + extra, "unexpected key for \(arch.rawValue)")
        }
        var momentum: [String: [Float]] = [:]
        for (key, parameter) in expected {
            let name = "/state/" + key
            guard let tensor = stored[key] else {
                // Old PyTorch checkpoints have no batch counter; it only matters for momentum=None BN.
                if parameter.kind == .counter { continue }
                throw MTError.badInput(source, name, "missing (expected float32 \(parameter.shape))")
            }
            guard tensor.values.count == parameter.value.count, tensor.isCounter || tensor.shape == parameter.shape else {
                throw MTError.badInput(source, name, "expected float32 \(parameter.shape), found shape \(tensor.shape)")
            }
            parameter.value = tensor.values
            if parameter.kind == .trainable, let buffer = record.momentum[key] {
                guard buffer.count == parameter.value.count else {
                    throw MTError.badInput(source, "/optimizer/momentum/" + key, "expected float32 \(parameter.shape)")
                }
                momentum[key] = buffer
            }
        }
        if let bank = record.memoryBank, bank.count % max(outputs, 1) != 0 {
            throw MTError.badInput(source, "/metric/memory", "expected [N, \(outputs)] rows, found \(bank.count) values")
        }
        self.init(network: network, momentum: momentum, epoch: record.epoch, iteration: record.iteration,
                  arguments: record.arguments, classNames: record.classNames, memoryBank: record.memoryBank,
                  nceNormalizer: record.nceNormalizer, isComplete: record.isComplete)
        trainingState = record.trainingState
    }

    /// The record to store: every parameter and buffer in `state_dict` order.
    public var record: CheckpointRecord {
        CheckpointRecord(
            architecture: network.architecture.rawValue, inputChannels: network.inputChannels,
            outputDimension: network.outputDimension, normalizesOutput: network.normalizesOutput,
            inputMean: network.inputMean, inputStd: network.inputStd,
            state: network.namedParameters().map { key, parameter in
                StateTensor(key: key, shape: parameter.shape, values: parameter.value, isCounter: parameter.kind == .counter)
            },
            momentum: momentum, epoch: epoch, iteration: iteration, arguments: arguments, classNames: classNames,
            memoryBank: memoryBank, nceNormalizer: nceNormalizer, trainingState: trainingState, isComplete: isComplete)
    }
}
