import MTCore

extension Selection {
    public static func read(_ path: String) throws -> Selection {
        let reader = try ArtifactReader(path, expecting: .selection)
        try reader.check("/index", as: Int64.self, shape: ["M"])
        try reader.check("/labels", as: Int32.self, shape: ["M"])
        try reader.check("/weights", as: Float.self, shape: ["M"])
        if reader.file.exists("/confidence") { try reader.check("/confidence", as: Float.self, shape: ["M"]) }
        if reader.file.exists("/probs") { try reader.check("/probs", as: Float.self, shape: ["M", "C"]) }
        let declaredSamples = reader.intAttribute("num_samples")
        if let declaredSamples, declaredSamples < 0 {
            throw MTError.badInput(path, nil, "expected num_samples >= 0, found \(declaredSamples)")
        }
        // A sample chosen twice would be trained on twice, possibly with two labels — except in a top-K x P
        // selection (top_classes > 1), where a sample may stand once in each of several classes' lists.
        let multiLabel = (reader.intAttribute("top_classes") ?? 1) > 1
        let index = try reader.readIndices("/index", shape: ["M"], below: declaredSamples, unique: !multiLabel)
        let sampleCount = declaredSamples ?? ((index.max() ?? -1) + 1)
        let (labels, classCount) = try reader.readLabels("/labels", shape: ["M"], classes: reader.intAttribute("num_classes"),
                                                         unknownAllowed: false)
        if multiLabel {
            var seen = Set<Int64>()
            for (sample, label) in zip(index, labels) where !seen.insert(Int64(sample) << 32 | Int64(label)).inserted {
                throw MTError.badInput(path, "/index", "expected each (sample, label) pair once, found sample \(sample) twice with label \(label)")
            }
        }
        let weights = try reader.readFinite("/weights", shape: ["M"], in: 0...Float.greatestFiniteMagnitude)
        let confidence = try reader.readFiniteIfPresent("/confidence", shape: ["M"], in: 0...1)
        let labeledCount = reader.intAttribute("num_labeled") ?? 0
        guard (0...index.count).contains(labeledCount) else {
            throw MTError.badInput(path, nil, "num_labeled \(labeledCount) is outside 0...\(index.count)")
        }
        var parameters: [String: AttributeValue] = [:]
        let reserved: Set = ["strategy", "num_samples", "num_classes", "num_labeled"]
        for name in reader.file.attributeNames() where !name.hasPrefix("mt_") && !reserved.contains(name) {
            parameters[name] = reader.file.attribute(name)
        }
        var selection = Selection(index: index, labels: labels, weights: weights.values,
                                  confidence: confidence?.values ?? weights.values, labeledCount: labeledCount,
                                  sampleCount: sampleCount, classCount: classCount,
                                  strategy: reader.stringAttribute("strategy") ?? "", parameters: parameters)
        if reader.file.exists("/probs") {
            let probs = try reader.readDistributions("/probs", shape: ["M", "C"])
            guard probs.rowLength == classCount else {
                throw MTError.badInput(path, "/probs", "expected [M, \(classCount)] (num_classes columns), found \(probs.shape)")
            }
            selection.probs = probs.values
        }
        return selection
    }

    public func write(_ path: String, inputs: [String]) throws {
        let writer = try ArtifactWriter(path, kind: .selection, inputs: inputs)
        try writer.file.write("/index", index.map { Int64($0) })
        try writer.file.write("/labels", labels)
        try writer.file.write("/weights", weights)
        try writer.file.write("/confidence", confidence)
        if let probs { try writer.file.write("/probs", probs, shape: [count, classCount]) }
        try writer.file.setAttribute("strategy", strategy)
        try writer.file.setAttribute("num_samples", sampleCount)
        try writer.file.setAttribute("num_classes", classCount)
        try writer.file.setAttribute("num_labeled", labeledCount)
        for (name, value) in parameters.sorted(by: { $0.key < $1.key }) { try writer.file.setAttribute(name, value) }
        try writer.commit()
    }
}

