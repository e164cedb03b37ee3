import MTCore

extension Split {
    /// Reads and checks a split; `sampleCount`, when given, must match the file's `num_samples`.
    public static func read(_ path: String, sampleCount expected: Int? = nil) throws -> Split {
        let reader = try ArtifactReader(path, expecting: .split)
        let labeled = try reader.read("/labeled", as: Int64.self, shape: ["L"])
        let labels = try reader.read("/labeled_labels", as: Int32.self, shape: ["L"])
        let unlabeled = try reader.read("/unlabeled", as: Int64.self, shape: ["U"])
        let all = labeled.values + unlabeled.values
        let count = reader.intAttribute("num_samples") ?? Int((all.max() ?? -1) + 1)
        if let expected, expected != count {
            throw MTError.badInput(path, nil, "split is for \(count) samples, the other input has \(expected)")
        }
        if let bad = all.first(where: { $0 < 0 || $0 >= Int64(count) }) {
            throw MTError.badInput(path, bad >= 0 && labeled.values.contains(bad) ? "/labeled" : "/unlabeled",
                                   "expected indices in 0..<\(count), found \(bad)")
        }
        let classes = reader.intAttribute("num_classes") ?? Int((labels.values.max() ?? -1) + 1)
        if let bad = labels.values.first(where: { $0 < 0 || Int($0) >= classes }) {
            throw MTError.badInput(path, "/labeled_labels", "expected labels in 0..<\(classes), found \(bad)")
        }
        return Split(labeled: labeled.values.map { Int($0) }, labeledLabels: labels.values,
                     unlabeled: unlabeled.values.map { Int($0) }, sampleCount: count, classCount: classes)
    }

    /// Writes the split artifact; `attributes` records how it was drawn.
    public func write(_ path: String, inputs: [String], attributes: [String: AttributeValue] = [:]) throws {
        let writer = try ArtifactWriter(path, kind: .split, inputs: inputs)
        try writer.file.write("/labeled", labeled.map { Int64($0) })
        try writer.file.write("/labeled_labels", labeledLabels)
        try writer.file.write("/unlabeled", unlabeled.map { Int64($0) })
        try writer.file.setAttribute("num_samples", sampleCount)
        try writer.file.setAttribute("num_classes", classCount)
        for (name, value) in attributes.sorted(by: { $0.key < $1.key }) { try writer.file.setAttribute(name, value) }
        try writer.commit()
    }
}

