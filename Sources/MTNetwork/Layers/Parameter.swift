import MTAlgorithms
import MTCore

/// One named array of a model's state, as PyTorch's `state_dict` holds it: a trainable parameter
/// (with its gradient), a float buffer (batchnorm running statistics) or a counter (`num_batches_tracked`,
/// an int64 scalar in PyTorch, kept here as a float that holds small integers exactly).
public final class Parameter {
    public enum Kind: Sendable { case trainable, buffer, counter }

    public let kind: Kind
    /// PyTorch shape (`[]` for a scalar counter).
    public let shape: [Int]
    public var value: [Float]
    /// d(loss)/d(value), accumulated by `backward`; zeroed by the optimiser step. Empty unless trainable.
    public var grad: [Float]

    public init(_ kind: Kind, shape: [Int], value: [Float]) {
        precondition(shape.reduce(1, *) == value.count)
        self.kind = kind
        self.shape = shape
        self.value = value
        grad = kind == .trainable ? [Float](repeating: 0, count: value.count) : []
    }

    public convenience init(_ kind: Kind, shape: [Int], fill: Float) {
        self.init(kind, shape: shape, value: [Float](repeating: fill, count: shape.reduce(1, *)))
    }

    public func zeroGrad() {
        guard !grad.isEmpty else { return }
        grad.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
    }
}
