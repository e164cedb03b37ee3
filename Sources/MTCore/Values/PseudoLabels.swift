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
    public var parameters: [String: AttributeValue]

    public init(probs: [Float], labels: [Int32], confidence: [Float], weights: [Float]? = nil, count: Int,
                classCount: Int, labeled: [Int], labeledLabels: [Int32], method: String,
                parameters: [String: AttributeValue] = [:]) {
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

    /// The samples outside the labelled set, in index order: what propagation predicts and what is evaluated.
    public var unlabeledIndices: [Int] {
        var isLabeled = [Bool](repeating: false, count: count)
        for index in labeled { isLabeled[index] = true }
        return (0..<count).filter { !isLabeled[$0] }
    }
}
