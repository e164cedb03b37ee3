/// A label and a class distribution for every sample: the `pseudo-labels` artifact, written by every
/// propagation method (kNN voting, label spreading, normalised cut).
///
/// On disk: `/probs` float32 [N,C] rows summing to 1, `/labels` int32 [N] (argmax; labelled samples keep
/// their given label), `/confidence` float32 [N] (the top probability), optional `/weights` float32 [N]
/// (a method's own training weight, e.g. the normalised cut's margin weight), `/labeled` int64 [L] and
/// `/labeled_labels` int32 [L] (the split it came from); attributes `method` and its parameters.
public struct PseudoLabels: Sendable {
    public var probs: [Float]
    public var labels: [Int32]
    public var confidence: [Float]
    public var weights: [Float]?
    public var count: Int
    public var classCount: Int
    public var labeled: [Int]
    public var labeledLabels: [Int32]
    public var method: String
    /// Method parameters, stored as root attributes.
    public var parameters: [String: H5AttributeValue]

    public init(probs: [Float], labels: [Int32], confidence: [Float], weights: [Float]? = nil, count: Int,
                classCount: Int, labeled: [Int], labeledLabels: [Int32], method: String,
                parameters: [String: H5AttributeValue] = [:]) {
        precondition(probs.count == count * classCount && labels.count == count && confidence.count == count)
        precondition(weights.map { $0.count == count } ?? true && labeled.count == labeledLabels.count)
        self.probs = probs
        self.labels = labels
        self.confidence = confidence
        self.weights = weights
        self.count = count
        self.classCount = classCount
        self.labeled = labeled
        self.labeledLabels = labeledLabels
        self.method = method
        self.parameters = parameters
    }

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
        var parameters: [String: H5AttributeValue] = [:]
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
