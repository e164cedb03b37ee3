import MTCore

extension PseudoLabels {
    public static func read(_ path: String) throws -> PseudoLabels {
        let reader = try ArtifactReader(path, expecting: .pseudoLabels)
        // Every per-sample dataset first, so that they must agree in N before anything large is read.
        let shape = try reader.check("/probs", as: Float.self, shape: ["N", "C"])
        try reader.check("/labels", as: Int32.self, shape: ["N"])
        try reader.check("/confidence", as: Float.self, shape: ["N"])
        if reader.file.exists("/weights") { try reader.check("/weights", as: Float.self, shape: ["N"]) }
        let count = shape[0], classes = shape[1]
        if let declared = reader.intAttribute("num_classes"), declared != classes {
            throw MTError.badInput(path, nil, "num_classes is \(declared) but /probs has \(classes) columns")
        }
        let labels = try reader.readLabels("/labels", shape: ["N"], classes: classes, unknownAllowed: false).labels
        let confidence = try reader.readFinite("/confidence", shape: ["N"], in: 0...1)
        let weights = try reader.readFiniteIfPresent("/weights", shape: ["N"], in: 0...1)
        guard reader.file.exists("/labeled") == reader.file.exists("/labeled_labels") else {
            throw MTError.badInput(path, reader.file.exists("/labeled") ? "/labeled_labels" : "/labeled",
                                   "missing dataset (/labeled and /labeled_labels go together)")
        }
        let labeled = reader.file.exists("/labeled")
            ? try reader.readIndices("/labeled", shape: ["L"], below: count, unique: true) : nil
        let labeledLabels = reader.file.exists("/labeled_labels")
            ? try reader.readLabels("/labeled_labels", shape: ["L"], classes: classes, unknownAllowed: false).labels : nil
        let probs = try reader.readDistributions("/probs", shape: ["N", "C"])
        var parameters: [String: AttributeValue] = [:]
        for name in reader.file.attributeNames() where !name.hasPrefix("mt_") && name != "method" {
            parameters[name] = reader.file.attribute(name)
        }
        return PseudoLabels(probs: probs.values, labels: labels, confidence: confidence.values,
                            weights: weights?.values, count: count, classCount: classes,
                            labeled: labeled ?? [], labeledLabels: labeledLabels ?? [],
                            method: reader.stringAttribute("method") ?? "", parameters: parameters)
    }

    public func write(_ path: String, inputs: [String]) throws {
        let writer = try ArtifactWriter(path, kind: .pseudoLabels, inputs: inputs)
        try writer.file.write("/probs", probs, shape: [count, classCount])
        try writer.file.write("/labels", labels)
        try writer.file.write("/confidence", confidence)
        if let weights { try writer.file.write("/weights", weights) }
        try writer.file.write("/labeled", labeled.map { Int64($0) })
        try writer.file.write("/labeled_labels", labeledLabels)
        try writer.file.setAttribute("method", method)
        try writer.file.setAttribute("num_classes", classCount)
        for (name, value) in parameters.sorted(by: { $0.key < $1.key }) where name != "num_classes" {
            try writer.file.setAttribute(name, value)
        }
        try writer.commit()
    }
}

