import MTAlgorithms
import MTCore

/// Fully connected layer, `nn.Linear` semantics: y = x W^T + b with weight [out, in], bias [out].
/// [N, in] -> [N, out]; one single-threaded sgemm per pass (small next to the convolutions, and so
/// rounded the same for any thread count).
public final class Linear: Layer {
    public let inFeatures, outFeatures: Int
    public let weight, bias: Parameter
    private var input: Tensor?

    public init(_ inFeatures: Int, _ outFeatures: Int) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        weight = Parameter(.trainable, shape: [outFeatures, inFeatures], fill: 0)
        bias = Parameter(.trainable, shape: [outFeatures], fill: 0)
    }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        precondition(input.sampleSize == inFeatures, "linear: expected [N,\(inFeatures)], found \(input.shape)")
        let n = input.batch
        var output = Tensor(zeros: [n, outFeatures])
        BLAS.singleThreaded { output.data.withUnsafeMutableBufferPointer { y in
            for row in 0..<n { (y.baseAddress! + row * outFeatures).update(from: bias.value, count: outFeatures) }
            BLAS.gemm(input.data, weight.value, y.baseAddress!, m: n, n: outFeatures, k: inFeatures,
                      transposeB: true, beta: 1)
        } }
        if training { self.input = input }
        return output
    }

    /// dx = dy W; dW += dy^T x; db += column sums of dy.
    public func backward(_ gradOutput: Tensor) -> Tensor {
        guard let input else { preconditionFailure("linear: backward without a training forward") }
        self.input = nil
        let n = input.batch
        var gradInput = Tensor(zeros: [n, inFeatures])
        BLAS.singleThreaded {
            gradInput.data.withUnsafeMutableBufferPointer { dx in
                BLAS.gemm(gradOutput.data, weight.value, dx.baseAddress!, m: n, n: inFeatures, k: outFeatures)
            }
            weight.grad.withUnsafeMutableBufferPointer { dw in
                BLAS.gemm(gradOutput.data, input.data, dw.baseAddress!, m: outFeatures, n: inFeatures, k: n,
                          transposeA: true, beta: 1)
            }
        }
        for row in 0..<n {
            for o in 0..<outFeatures { bias.grad[o] += gradOutput.data[row * outFeatures + o] }
        }
        return gradInput.reshaped(input.shape)
    }

    public func namedParameters() -> [(String, Parameter)] { [("weight", weight), ("bias", bias)] }
}
