/// What the classifier will train on: the `selection` artifact, written by `mt-select pseudo`.
///
/// On disk: `/index` int64 [M] sample indices, `/labels` int32 [M] the label to train with, `/weights`
/// float32 [M] the per-sample loss weight, `/confidence` float32 [M] the score the entry was ranked by
/// (1 for labelled samples). The first `num_labeled` entries are the labelled samples (given labels,
/// weight 1); the rest are pseudo-labelled samples in selection order (most confident first).
/// Attributes: `strategy`, `weighting`, `balance`, `num_samples`, `num_classes`, `num_labeled`, and the
/// strategy's parameters.
public struct Selection: Sendable, Equatable {
    public var index: [Int]
    public var labels: [Int32]
    public var weights: [Float]
    public var confidence: [Float]
    public var labeledCount: Int
    public var sampleCount: Int
    public var classCount: Int
    public var strategy: String
    /// Strategy, weighting and balancing parameters, stored as root attributes.
    public var parameters: [String: H5AttributeValue]

    public init(index: [Int], labels: [Int32], weights: [Float], confidence: [Float], labeledCount: Int,
                sampleCount: Int, classCount: Int, strategy: String, parameters: [String: H5AttributeValue] = [:]) {
        precondition(labels.count == index.count && weights.count == index.count && confidence.count == index.count)
        precondition(labeledCount <= index.count)
        self.index = index
        self.labels = labels
        self.weights = weights
        self.confidence = confidence
        self.labeledCount = labeledCount
        self.sampleCount = sampleCount
        self.classCount = classCount
        self.strategy = strategy
        self.parameters = parameters
    }

    /// Number of selected entries (labelled included).
    public var count: Int { index.count }

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
        var parameters: [String: H5AttributeValue] = [:]
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
