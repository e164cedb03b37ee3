import MTCore

extension PseudoLabels {
    public static func read(_ path: String) throws -> PseudoLabels {
        let reader = try ArtifactReader(path, expecting: .pseudoLabels)
        let probs = try reader.read("/probs", as: Float.self, shape: ["N", "C"])
        let labels = try reader.read("/labels", as: Int32.self, shape: ["N"])
        let confidence = try reader.read("/confidence", as: Float.self, shape: ["N"])
        let weights = try reader.readIfPresent("/weights", as: Float.self, shape: ["N"])
        let labeled = try reader.readIfPresent("/labeled", as: Int64.self, shape: ["L"])
        let labeledLabels = try reader.readIfPresent("/labeled_labels", as: Int32.self, shape: ["L"])
        let count = probs.shape[0], classes = probs.shape[1]
        if let bad = labels.values.first(where: { $0 < 0 || Int($0) >= classes }) {
            throw MTError.badInput(path, "/labels", "expected labels in 0..<\(classes), found \(bad)")
        }
        if let bad = labeled?.values.first(where: { $0 < 0 || $0 >= Int64(count) }) {
            throw MTError.badInput(path, "/labeled", "expected indices in 0..<\(count), found \(bad)")
        }
        var parameters: [String: AttributeValue] = [:]
        for name in reader.file.attributeNames() where !name.hasPrefix("mt_") && name != "method" {
            parameters[name] = reader.file.attribute(name)
        }
        return PseudoLabels(probs: probs.values, labels: labels.values, confidence: confidence.values,
                            weights: weights?.values, count: count, classCount: classes,
                            labeled: labeled?.values.map { Int($0) } ?? [], labeledLabels: labeledLabels?.values ?? [],
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

