import MTCore

extension Selection {
    public static func read(_ path: String) throws -> Selection {
        let reader = try ArtifactReader(path, expecting: .selection)
        let index = try reader.read("/index", as: Int64.self, shape: ["M"])
        let labels = try reader.read("/labels", as: Int32.self, shape: ["M"])
        let weights = try reader.read("/weights", as: Float.self, shape: ["M"])
        let confidence = try reader.readIfPresent("/confidence", as: Float.self, shape: ["M"])
        let sampleCount = reader.intAttribute("num_samples") ?? Int((index.values.max() ?? -1) + 1)
        let classCount = reader.intAttribute("num_classes") ?? Int((labels.values.max() ?? -1) + 1)
        let labeledCount = reader.intAttribute("num_labeled") ?? 0
        if let bad = index.values.first(where: { $0 < 0 || $0 >= Int64(sampleCount) }) {
            throw MTError.badInput(path, "/index", "expected indices in 0..<\(sampleCount), found \(bad)")
        }
        if let bad = labels.values.first(where: { $0 < 0 || Int($0) >= classCount }) {
            throw MTError.badInput(path, "/labels", "expected labels in 0..<\(classCount), found \(bad)")
        }
        guard (0...index.values.count).contains(labeledCount) else {
            throw MTError.badInput(path, nil, "num_labeled \(labeledCount) is outside 0...\(index.values.count)")
        }
        var parameters: [String: AttributeValue] = [:]
        let reserved: Set = ["strategy", "num_samples", "num_classes", "num_labeled"]
        for name in reader.file.attributeNames() where !name.hasPrefix("mt_") && !reserved.contains(name) {
            parameters[name] = reader.file.attribute(name)
        }
        return Selection(index: index.values.map { Int($0) }, labels: labels.values, weights: weights.values,
                         confidence: confidence?.values ?? weights.values, labeledCount: labeledCount,
                         sampleCount: sampleCount, classCount: classCount,
                         strategy: reader.stringAttribute("strategy") ?? "", parameters: parameters)
    }

    public func write(_ path: String, inputs: [String]) throws {
        let writer = try ArtifactWriter(path, kind: .selection, inputs: inputs)
        try writer.file.write("/index", index.map { Int64($0) })
        try writer.file.write("/labels", labels)
        try writer.file.write("/weights", weights)
        try writer.file.write("/confidence", confidence)
        try writer.file.setAttribute("strategy", strategy)
        try writer.file.setAttribute("num_samples", sampleCount)
        try writer.file.setAttribute("num_classes", classCount)
        try writer.file.setAttribute("num_labeled", labeledCount)
        for (name, value) in parameters.sorted(by: { $0.key < $1.key }) { try writer.file.setAttribute(name, value) }
        try writer.commit()
    }
}

