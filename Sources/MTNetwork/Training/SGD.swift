import MTAlgorithms
import MTCore

/// Stochastic gradient descent exactly as `torch.optim.SGD` (dampening 0):
///
///     g = grad + weight_decay * p           (decay on every trainable parameter, as the reference)
///     b = momentum * b + g                  (b starts at 0, so the first b is g as PyTorch clones it)
///     p -= lr * (nesterov ? g + momentum * b : b)
///
/// The momentum buffers are keyed like the parameters so they can be checkpointed and resumed.
public final class SGD {
    public var momentum: Float
    public var weightDecay: Float
    public var nesterov: Bool
    public let parameters: [(String, Parameter)]
    /// Momentum buffer per parameter (same order as `parameters`).
    public var buffers: [[Float]]

    public init(_ parameters: [(String, Parameter)], momentum: Float = 0.9, weightDecay: Float = 5e-4, nesterov: Bool = false) {
        self.parameters = parameters.filter { $0.1.kind == .trainable }
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.nesterov = nesterov
        buffers = self.parameters.map { [Float](repeating: 0, count: $0.1.value.count) }
    }

    /// Applies one update with learning rate `lr` and zeroes the gradients.
    public func step(lr: Float) {
        for (index, (_, parameter)) in parameters.enumerated() {
            let m = momentum, wd = weightDecay, nesterov = nesterov
            parameter.value.withUnsafeMutableBufferPointer { p in
                parameter.grad.withUnsafeMutableBufferPointer { g in
                    buffers[index].withUnsafeMutableBufferPointer { b in
                        for i in 0..<p.count {
                            let d = g[i] + wd * p[i]
                            b[i] = m * b[i] + d
                            p[i] -= lr * (nesterov ? d + m * b[i] : b[i])
                            g[i] = 0
                        }
                    }
                }
            }
        }
    }
}
