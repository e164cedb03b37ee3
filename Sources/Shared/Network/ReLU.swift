/// max(x, 0), elementwise, any shape. The output is kept for backward: dx = dy where y > 0 (PyTorch's
/// convention: gradient 0 at exactly 0).
public final class ReLU: Layer {
    private var output: Tensor?

    public init() {}

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        var y = input
        y.data.withUnsafeMutableBufferPointer { p in
            let base = p.baseAddress!, count = p.count
            Parallel.forEachChunk(count, minimumChunk: 1 << 16) { range in
                for i in range { base[i] = max(base[i], 0) }  // branch-free, vectorises
            }
        }
        if training { output = y }
        return y
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        guard let output else { preconditionFailure("relu: backward without a training forward") }
        self.output = nil
        var dx = gradOutput
        dx.data.withUnsafeMutableBufferPointer { d in
            output.data.withUnsafeBufferPointer { y in
                let dp = d.baseAddress!, yp = y.baseAddress!
                Parallel.forEachChunk(d.count, minimumChunk: 1 << 16) { range in
                    for i in range { dp[i] = yp[i] > 0 ? dp[i] : 0 }
                }
            }
        }
        return dx
    }
}
