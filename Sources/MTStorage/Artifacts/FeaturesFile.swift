import MTCore

extension Features {
    /// Reads and checks a features file; `/labels` may be absent in hand-made files (all unknown).
    public static func read(_ path: String) throws -> Features {
        let reader = try ArtifactReader(path, expecting: .features)
        try reader.check("/features", as: Float.self, shape: ["N", "D"])
        let labels = try readLabels(reader)
        let features = try reader.readFinite("/features", shape: ["N", "D"])
        return Features(values: features.values, count: features.shape[0], dimension: features.shape[1],
                        labels: labels ?? [Int32](repeating: -1, count: features.shape[0]),
                        model: reader.stringAttribute("model") ?? "", normalized: reader.intAttribute("normalized") == 1)
    }

    /// Opens a features file for streaming: checks it and returns the reader and (N, D) without loading rows.
    public static func openStream(_ path: String) throws -> (reader: ArtifactReader, count: Int, dimension: Int) {
        let reader = try ArtifactReader(path, expecting: .features)
        let shape = try reader.check("/features", as: Float.self, shape: ["N", "D"])
        if reader.file.exists("/labels") { try reader.check("/labels", as: Int32.self, shape: ["N"]) }
        return (reader, shape[0], shape[1])
    }

    /// `/labels` under the label rule (classes from `/class_names` when the file has them), nil when absent.
    static func readLabels(_ reader: ArtifactReader) throws -> [Int32]? {
        guard reader.file.exists("/labels") else { return nil }
        let names = try reader.classNames()
        return try reader.readLabels("/labels", shape: ["N"], classes: names.isEmpty ? nil : names.count, unknownAllowed: true).labels
    }

    /// Writes a features artifact whose rows are made block by block (`rows(range)` returns the
    /// [range.count, dimension] values), so that only one block is in memory: the same file `write` makes.
    public static func write(_ path: String, inputs: [String], count: Int, dimension: Int, labels: [Int32], model: String,
                             normalized: Bool, blockRows: Int, attributes: [String: AttributeValue] = [:],
                             extra: (H5File) throws -> Void = { _ in }, rows: (Range<Int>) throws -> [Float]) throws {
        precondition(labels.count == count && blockRows >= 1)
        let writer = try ArtifactWriter(path, kind: .features, inputs: inputs)
        for (name, value) in attributes.sorted(by: { $0.key < $1.key }) { try writer.file.setAttribute(name, value) }
        try writer.file.createDataset("/features", of: Float.self, shape: [count, dimension])
        for start in stride(from: 0, to: count, by: blockRows) {
            let range = start..<min(count, start + blockRows)
            let values = try rows(range)
            precondition(values.count == range.count * dimension)
            try values.withUnsafeBufferPointer { try writer.file.writeRows("/features", at: start, $0, shape: [range.count, dimension]) }
        }
        try writer.file.write("/labels", labels)
        try writer.file.setAttribute("model", model)
        try writer.file.setAttribute("normalized", normalized ? 1 : 0)
        try extra(writer.file)
        try writer.commit()
    }

    /// Writes the features artifact; `extra` can add datasets (e.g. a fitted projection) before commit.
    public func write(_ path: String, inputs: [String], extra: (H5File) throws -> Void = { _ in }) throws {
        try Self.write(path, inputs: inputs, count: count, dimension: dimension, labels: labels, model: model,
                       normalized: normalized, blockRows: max(1, count), extra: extra) { _ in values }
    }
}
