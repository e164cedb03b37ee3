import MTAlgorithms
import MTCore

/// A float32 tensor in NCHW order over contiguous storage (`[N, C, H, W]` for images, `[N, D]` for
/// vectors). Value semantics: copies share storage until written (Swift copy-on-write), so layers can keep
/// their inputs for the backward pass without copying.
public struct Tensor: Sendable {
    public var shape: [Int]
    public var data: [Float]

    public init(shape: [Int], data: [Float]) {
        precondition(shape.reduce(1, *) == data.count, "tensor shape \(shape) does not match \(data.count) values")
        self.shape = shape
        self.data = data
    }

    /// A tensor of zeros.
    public init(zeros shape: [Int]) {
        self.init(shape: shape, data: [Float](repeating: 0, count: shape.reduce(1, *)))
    }

    /// A tensor whose every value the caller overwrites before reading (skips zero-filling, which costs a
    /// full extra pass over large activations).
    public init(uninitialized shape: [Int]) {
        let count = shape.reduce(1, *)
        self.shape = shape
        // An empty array is one shared instance: setting its count from several threads at once is a data
        // race (ThreadSanitizer), so it is made without the initializer.
        data = count == 0 ? [] : [Float](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
    }

    /// Samples (the leading dimension).
    public var batch: Int { shape[0] }
    /// Values per sample (product of the trailing dimensions).
    public var sampleSize: Int { shape.dropFirst().reduce(1, *) }
    public var count: Int { data.count }
    /// Channels, height, width of an NCHW tensor.
    public var channels: Int { shape[1] }
    public var height: Int { shape[2] }
    public var width: Int { shape[3] }

    /// The same values under another shape with the same element count.
    public func reshaped(_ newShape: [Int]) -> Tensor { Tensor(shape: newShape, data: data) }
}

extension Tensor {
    /// The predicted class of every row of an [N, K] output (first index of the largest logit).
    public func rowArgmax() -> [Int] { Argmax.rows(data, columns: sampleSize) }
}
