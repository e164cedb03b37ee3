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
    public var parameters: [String: AttributeValue]
    /// Optional [M, C]: each entry's class distribution (one-hot for labelled samples), the soft targets of
    /// `mt-train classifier --targets soft`.
    public var probs: [Float]?

    public init(index: [Int], labels: [Int32], weights: [Float], confidence: [Float], labeledCount: Int,
                sampleCount: Int, classCount: Int, strategy: String, parameters: [String: AttributeValue] = [:]) {
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
}
