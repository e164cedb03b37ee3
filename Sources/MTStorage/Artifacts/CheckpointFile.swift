import MTCore

extension CheckpointRecord {
    /// Reads a checkpoint artifact as stored; every `/state` entry must be float32 (or an int64 scalar
    /// counter). Whether the keys and shapes fit the architecture is the network engine's check
    /// (`Network(restoring:source:)`).
    public static func read(_ path: String) throws -> CheckpointRecord {
        let reader = try ArtifactReader(path, expecting: .checkpoint)
        guard let arch = reader.stringAttribute("arch") else {
            throw MTError.badInput(path, nil, "expected attribute arch (the architecture name)")
        }
        let mean = try reader.read("/input/mean", as: Float.self, shape: ["C"])
        let std = try reader.read("/input/std", as: Float.self, shape: ["C"])
        var state: [StateTensor] = []
        var momentum: [String: [Float]] = [:]
        if reader.file.isGroup("/state") {
            for key in try reader.file.members(of: "/state") {
                let name = "/state/" + key
                let info = try reader.file.info(name)
                if key.hasSuffix("num_batches_tracked") || info.isInteger {
                    let counter = try reader.file.read(name, as: Int64.self)
                    state.append(StateTensor(key: key, shape: counter.shape, values: counter.values.map(Float.init), isCounter: true))
                    continue
                }
                let array = try reader.read(name, as: Float.self, shape: info.shape.map { .fixed($0) })
                state.append(StateTensor(key: key, shape: array.shape, values: array.values))
                let moment = "/optimizer/momentum/" + key
                if reader.file.exists(moment) {
                    momentum[key] = try reader.read(moment, as: Float.self, shape: info.shape.map { .fixed($0) }).values
                }
            }
        }
        let names = reader.file.exists("/class_names") ? try reader.file.readStrings("/class_names") : []
        let memory = try reader.readIfPresent("/metric/memory", as: Float.self, shape: ["N", "D"])?.values
        var training: [String: [Float]] = [:]
        if reader.file.isGroup("/training") {
            for name in try reader.file.members(of: "/training") {
                let info = try reader.file.info("/training/" + name)
                guard info.shape.count == 1 else {
                    throw MTError.badInput(path, "/training/" + name, "expected float32 [n], found shape \(info.shape)")
                }
                training[name] = try reader.read("/training/" + name, as: Float.self, shape: [.fixed(info.shape[0])]).values
            }
        }
        return CheckpointRecord(
            architecture: arch, inputChannels: reader.intAttribute("input_channels") ?? mean.values.count,
            outputDimension: reader.intAttribute("output_dim"), normalizesOutput: reader.intAttribute("normalize_output") == 1,
            inputMean: mean.values, inputStd: std.values, state: state, momentum: momentum,
            epoch: reader.intAttribute("epoch") ?? 0, iteration: reader.intAttribute("iteration") ?? 0,
            arguments: reader.stringAttribute("args") ?? "{}", classNames: names, memoryBank: memory,
            nceNormalizer: reader.doubleAttribute("nce_normalizer"), trainingState: training, isComplete: reader.intAttribute("complete").map { $0 != 0 } ?? true)
    }

    /// Writes the checkpoint artifact atomically.
    public func write(_ path: String, inputs: [String]) throws {
        let writer = try ArtifactWriter(path, kind: .checkpoint, inputs: inputs)
        let file = writer.file
        try file.setAttribute("arch", architecture)
        try file.setAttribute("input_channels", inputChannels)
        if let outputDimension { try file.setAttribute("output_dim", outputDimension) }
        try file.setAttribute("normalize_output", normalizesOutput ? 1 : 0)
        try file.setAttribute("epoch", epoch)
        try file.setAttribute("iteration", iteration)
        try file.setAttribute("args", arguments)
        try file.setAttribute("complete", isComplete ? 1 : 0)
        try file.write("/input/mean", inputMean)
        try file.write("/input/std", inputStd)
        for tensor in state {
            if tensor.isCounter {
                try file.writeScalar("/state/" + tensor.key, Int64(tensor.values[0]))
            } else {
                try file.write("/state/" + tensor.key, tensor.values, shape: tensor.shape)
            }
            if let buffer = momentum[tensor.key] {
                try file.write("/optimizer/momentum/" + tensor.key, buffer, shape: tensor.shape)
            }
        }
        if !classNames.isEmpty { try file.writeStrings("/class_names", classNames) }
        if let memoryBank, let d = outputDimension, d > 0 {
            try file.write("/metric/memory", memoryBank, shape: [memoryBank.count / d, d])
        }
        if let nceNormalizer { try file.setAttribute("nce_normalizer", nceNormalizer) }
        for (name, values) in trainingState.sorted(by: { $0.key < $1.key }) {
            precondition(!name.contains("/"), "training state names have no '/'")
            try file.write("/training/" + name, values)
        }
        try writer.commit()
    }
}
