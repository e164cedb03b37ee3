/// Which samples have a given label: the `split` artifact.
///
/// On disk: `/labeled` int64 [L] sample indices, `/labeled_labels` int32 [L] their labels (the only labels
/// propagation may use), `/unlabeled` int64 [U]; attributes `num_samples`, `num_classes`, `seed`, and
/// `per_class` or `labeled_total` (how it was drawn).
public struct Split: Sendable, Equatable {
    public var labeled: [Int]
    public var labeledLabels: [Int32]
    public var unlabeled: [Int]
    public var sampleCount: Int
    public var classCount: Int

    public init(labeled: [Int], labeledLabels: [Int32], unlabeled: [Int], sampleCount: Int, classCount: Int) {
        precondition(labeled.count == labeledLabels.count)
        self.labeled = labeled
        self.labeledLabels = labeledLabels
        self.unlabeled = unlabeled
        self.sampleCount = sampleCount
        self.classCount = classCount
    }
}
