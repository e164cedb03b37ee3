import MTAlgorithms
import MTCore

/// max(x, 0), elementwise, any shape. The output is kept for backward: dx = dy where y > 0 (PyTorch's
/// convention: gradient 0 at exactly 0).
public final class ReLU: Layer {
    private var output: Tensor?

    public init() {}

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        var y = Tensor(uninitialized: input.shape)
        input.data.withUnsafeBufferPointer { xs in
            y.data.withUnsafeMutableBufferPointer { ys in
                let x = xs.baseAddress!, out = ys.baseAddress!
                Parallel.forEachChunk(xs.count, minimumChunk: 1 << 16) { range in
                    for i in range { out[i] = max(x[i], 0) }  // branch-free, vectorises
                }
            }
        }
        if training { output = y }
        return y
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        guard let output else { preconditionFailure("relu: backward without a training forward") }
        self.output = nil
        var dx = Tensor(uninitialized: gradOutput.shape)
        dx.data.withUnsafeMutableBufferPointer { d in
            gradOutput.data.withUnsafeBufferPointer { g in
                output.data.withUnsafeBufferPointer { y in
                    let dp = d.baseAddress!, gp = g.baseAddress!, yp = y.baseAddress!
                    Parallel.forEachChunk(d.count, minimumChunk: 1 << 16) { range in
                        // Both loads unconditional, then a select: a conditional load would not vectorise.
                        for i in range {
                            let g = gp[i]
                            dp[i] = yp[i] > 0 ? g : 0
                        }
                    }
                }
            }
        }
        return dx
    }
}
