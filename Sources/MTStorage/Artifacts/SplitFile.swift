import MTCore

extension Split {
    /// Reads and checks a split; `sampleCount`, when given, must match the file's `num_samples`.
    public static func read(_ path: String, sampleCount expected: Int? = nil) throws -> Split {
        let reader = try ArtifactReader(path, expecting: .split)
        try reader.check("/labeled", as: Int64.self, shape: ["L"])
        try reader.check("/labeled_labels", as: Int32.self, shape: ["L"])
        try reader.check("/unlabeled", as: Int64.self, shape: ["U"])
        let declared = reader.intAttribute("num_samples")
        if let declared, let expected, expected != declared {
            throw MTError.badInput(path, nil, "split is for \(declared) samples, the other input has \(expected)")
        }
        let bound = declared ?? expected
        // Each sample is labelled once or unlabelled once: a repeat would let the last label win silently.
        let labeled = try reader.readIndices("/labeled", shape: ["L"], below: bound, unique: true)
        guard !labeled.isEmpty else {
            throw MTError.badInput(path, "/labeled", "expected at least one labelled sample, found none")
        }
        let unlabeled = try reader.readIndices("/unlabeled", shape: ["U"], below: bound, unique: true)
        let labeledSet = Set(labeled)
        if let both = unlabeled.first(where: labeledSet.contains) {
            throw MTError.badInput(path, "/unlabeled", "expected samples not in /labeled, found \(both) in both")
        }
        let count = bound ?? (max(labeled.max() ?? -1, unlabeled.max() ?? -1) + 1)
        let (labels, classes) = try reader.readLabels("/labeled_labels", shape: ["L"], classes: reader.intAttribute("num_classes"),
                                                      unknownAllowed: false)
        return Split(labeled: labeled, labeledLabels: labels, unlabeled: unlabeled, sampleCount: count, classCount: classes)
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

