/// One named array of a model's state, in its PyTorch `state_dict` shape.
public struct StateTensor: Sendable, Equatable {
    public var key: String
    public var shape: [Int]
    public var values: [Float]
    /// `num_batches_tracked`: an int64 scalar on disk, held as a float that represents small integers exactly.
    public var isCounter: Bool

    public init(key: String, shape: [Int], values: [Float], isCounter: Bool = false) {
        precondition(shape.reduce(1, *) == values.count)
        self.key = key
        self.shape = shape
        self.values = values
        self.isCounter = isCounter
    }
}

/// A trained (or training) network as stored: the `checkpoint` artifact's contents, with no knowledge of
/// how a network is built from them. The network engine turns a record into a `Network` (checking every
/// key and shape against the architecture) and a training state back into a record; storage reads and
/// writes records.
///
/// On disk: `/state/<key>` one dataset per `state_dict` entry (float32 in its PyTorch shape;
/// `num_batches_tracked` int64 scalar), `/input/mean` and `/input/std` float32 [C] (x = (pixel/255 - mean)/std),
/// optional `/optimizer/momentum/<key>` float32 (SGD momentum buffers, for `--resume`), optional
/// `/class_names` strings [K], optional `/metric/memory` float32 [N, D] (an instance-discrimination memory
/// bank), optional `/training/<name>` float32 [n] (what else a training method needs to resume exactly: the
/// raw student weights behind an EMA model, per-sample pseudo-label state; names without '/'); attributes `arch`, `input_channels`, `output_dim`, `normalize_output`, `epoch` (epochs completed),
/// `iteration` (optimiser steps taken), `args` (the training options, JSON), optional `nce_normalizer` and
/// optional `complete` (0 in the epoch checkpoints of a run still in progress; absent counts as 1).
public struct CheckpointRecord: Sendable {
    public var architecture: String
    public var inputChannels: Int
    /// nil in files that omit `output_dim` (the head's bias length then tells).
    public var outputDimension: Int?
    public var normalizesOutput: Bool
    public var inputMean: [Float]
    public var inputStd: [Float]
    /// Parameters and buffers in `state_dict` order.
    public var state: [StateTensor]
    /// SGD momentum buffers by key.
    public var momentum: [String: [Float]]
    public var epoch: Int
    public var iteration: Int
    /// The training options as JSON (what `--resume` checks and continues).
    public var arguments: String
    public var classNames: [String]
    /// The memory bank [rows, dimension] of instance discrimination, row-major.
    public var memoryBank: [Float]?
    /// The frozen NCE normaliser Z.
    public var nceNormalizer: Double?
    /// Method state for an exact resume, by name (no '/').
    public var trainingState: [String: [Float]]
    /// False for an epoch checkpoint of an unfinished run (resumable, but not a trained model). Files
    /// without the attribute (older ones, torch2h5 conversions) are complete.
    public var isComplete: Bool

    public init(architecture: String, inputChannels: Int, outputDimension: Int?, normalizesOutput: Bool,
                inputMean: [Float], inputStd: [Float], state: [StateTensor], momentum: [String: [Float]] = [:],
                epoch: Int = 0, iteration: Int = 0, arguments: String = "{}", classNames: [String] = [],
                memoryBank: [Float]? = nil, nceNormalizer: Double? = nil, trainingState: [String: [Float]] = [:],
                isComplete: Bool = true) {
        self.trainingState = trainingState
        self.architecture = architecture
        self.inputChannels = inputChannels
        self.outputDimension = outputDimension
        self.normalizesOutput = normalizesOutput
        self.inputMean = inputMean
        self.inputStd = inputStd
        self.state = state
        self.momentum = momentum
        self.epoch = epoch
        self.iteration = iteration
        self.arguments = arguments
        self.classNames = classNames
        self.memoryBank = memoryBank
        self.nceNormalizer = nceNormalizer
        self.isComplete = isComplete
    }

    /// The tensor stored under `key`.
    public func tensor(_ key: String) -> StateTensor? { state.first { $0.key == key } }
}
