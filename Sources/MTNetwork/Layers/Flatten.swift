import MTAlgorithms
import MTCore

/// [N, ...] -> [N, prod(...)], `torch.flatten(x, 1)`; backward restores the shape.
public final class Flatten: Layer {
    private var inputShape: [Int] = []

    public init() {}

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        if training { inputShape = input.shape }
        return input.reshaped([input.batch, input.sampleSize])
    }

    public func backward(_ gradOutput: Tensor) -> Tensor { gradOutput.reshaped(inputShape) }
}
