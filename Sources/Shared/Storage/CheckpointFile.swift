import Foundation

/// A trained (or training) network: the `checkpoint` artifact.
///
/// On disk: `/state/<key>` one dataset per PyTorch `state_dict` entry (float32 in its PyTorch shape;
/// `num_batches_tracked` int64 scalar), `/input/mean` and `/input/std` float32 [C] (x = (pixel/255 - mean)/std),
/// optional `/optimizer/momentum/<key>` float32 (SGD momentum buffers, for `--resume`), optional
/// `/class_names` strings [K]; attributes `arch`, `input_channels`, `output_dim`, `normalize_output`,
/// `epoch` (epochs completed), `iteration` (optimiser steps taken) and `args` (the training options, JSON).
public struct Checkpoint {
    public var network: Network
    public var momentum: [String: [Float]]
    public var epoch: Int
    public var iteration: Int
    /// The training options as JSON (what `--resume` checks and continues).
    public var arguments: String
    public var classNames: [String]

    public init(network: Network, momentum: [String: [Float]] = [:], epoch: Int = 0, iteration: Int = 0,
                arguments: String = "{}", classNames: [String] = []) {
        self.network = network
        self.momentum = momentum
        self.epoch = epoch
        self.iteration = iteration
        self.arguments = arguments
        self.classNames = classNames
    }

    /// Reads a checkpoint and builds its network with every parameter and buffer loaded; a missing key, an
    /// unexpected key or a shape that differs from the architecture's is refused.
    public static func read(_ path: String) throws -> Checkpoint {
        let reader = try ArtifactReader(path, expecting: .checkpoint)
        guard let archName = reader.stringAttribute("arch") else {
            throw MTError.badInput(path, nil, "expected attribute arch (one of \(Architecture.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        guard let arch = Architecture(rawValue: archName) else {
            throw MTError.badInput(path, nil, "expected arch one of \(Architecture.allCases.map(\.rawValue).joined(separator: ", ")), found '\(archName)'")
        }
        let mean = try reader.read("/input/mean", as: Float.self, shape: ["C"])
        let std = try reader.read("/input/std", as: Float.self, shape: ["C"])
        let channels = reader.intAttribute("input_channels") ?? mean.values.count
        let outputs: Int
        if let stored = reader.intAttribute("output_dim") {
            outputs = stored
        } else {
            let headKey = "/state/\(arch.headName).bias"
            outputs = try reader.file.info(headKey).shape.first ?? 0
        }
        let network = Network(arch, inputChannels: channels, outputDimension: outputs,
                              normalizesOutput: reader.intAttribute("normalize_output") == 1,
                              inputMean: mean.values, inputStd: std.values)
        let expected = network.namedParameters()
        let stored = Set(try reader.file.members(of: "/state"))
        if let extra = stored.subtracting(expected.map(\.0)).sorted().first {
            throw MTError.badInput(path, "/state/" + extra, "unexpected key for \(arch.rawValue)")
        }
        var momentum: [String: [Float]] = [:]
        for (key, parameter) in expected {
            let name = "/state/" + key
            guard stored.contains(key) else {
                // Old PyTorch checkpoints have no batch counter; it only matters for momentum=None BN.
                if parameter.kind == .counter { continue }
                throw MTError.badInput(path, name, "missing (expected float32 \(parameter.shape))")
            }
            let array = parameter.kind == .counter
                ? H5Array(values: try reader.file.read(name, as: Int64.self).values.map(Float.init), shape: [])
                : try reader.read(name, as: Float.self, shape: parameter.shape.map { .fixed($0) })
            parameter.value = array.values
            let moment = "/optimizer/momentum/" + key
            if parameter.kind == .trainable, reader.file.exists(moment) {
                momentum[key] = try reader.read(moment, as: Float.self, shape: parameter.shape.map { .fixed($0) }).values
            }
        }
        let names = reader.file.exists("/class_names") ? try reader.file.readStrings("/class_names") : []
        return Checkpoint(network: network, momentum: momentum, epoch: reader.intAttribute("epoch") ?? 0,
                          iteration: reader.intAttribute("iteration") ?? 0,
                          arguments: reader.stringAttribute("args") ?? "{}", classNames: names)
    }

    /// Writes the checkpoint atomically; `extra` can add datasets or attributes before commit (the metric
    /// trainer's memory bank).
    public func write(_ path: String, inputs: [String], extra: (H5File) throws -> Void = { _ in }) throws {
        let writer = try ArtifactWriter(path, kind: .checkpoint, inputs: inputs)
        let file = writer.file
        try file.setAttribute("arch", network.architecture.rawValue)
        try file.setAttribute("input_channels", network.inputChannels)
        try file.setAttribute("output_dim", network.outputDimension)
        try file.setAttribute("normalize_output", network.normalizesOutput ? 1 : 0)
        try file.setAttribute("epoch", epoch)
        try file.setAttribute("iteration", iteration)
        try file.setAttribute("args", arguments)
        try file.write("/input/mean", network.inputMean)
        try file.write("/input/std", network.inputStd)
        for (key, parameter) in network.namedParameters() {
            if parameter.kind == .counter {
                try file.writeScalar("/state/" + key, Int64(parameter.value[0]))
            } else {
                try file.write("/state/" + key, parameter.value, shape: parameter.shape)
            }
            if let buffer = momentum[key] {
                try file.write("/optimizer/momentum/" + key, buffer, shape: parameter.shape)
            }
        }
        if !classNames.isEmpty { try file.writeStrings("/class_names", classNames) }
        try extra(file)
        try writer.commit()
    }
}
