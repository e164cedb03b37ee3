import MTAlgorithms
import MTCore

/// Row-wise L2 normalisation, y = x / max(||x||, eps) (`F.normalize(x, dim=1)`, the reference's
/// `Normalize(2)`). [N, D] -> [N, D]; backward: dx = (dy - y (y . dy)) / ||x||.
public final class L2Normalize: Layer {
    public let epsilon: Float
    private var output: Tensor?
    private var norms: [Float] = []

    public init(epsilon: Float = 1e-12) { self.epsilon = epsilon }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        let n = input.batch, d = input.sampleSize
        var y = input
        var norms = [Float](repeating: 0, count: n)
        for row in 0..<n {
            var sum: Float = 0
            for j in 0..<d { sum += y.data[row * d + j] * y.data[row * d + j] }
            let norm = max(sum.squareRoot(), epsilon)
            norms[row] = norm
            for j in 0..<d { y.data[row * d + j] /= norm }
        }
        if training {
            output = y
            self.norms = norms
        }
        return y
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        guard let output else { preconditionFailure("l2 normalise: backward without a training forward") }
        self.output = nil
        let n = output.batch, d = output.sampleSize
        var dx = gradOutput
        for row in 0..<n {
            var dot: Float = 0
            for j in 0..<d { dot += output.data[row * d + j] * gradOutput.data[row * d + j] }
            for j in 0..<d {
                dx.data[row * d + j] = (gradOutput.data[row * d + j] - output.data[row * d + j] * dot) / norms[row]
            }
        }
        return dx
    }
}
