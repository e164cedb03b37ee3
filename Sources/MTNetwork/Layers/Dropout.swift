import MTAlgorithms
import MTCore

/// Inverted dropout, `nn.Dropout(p)`: in training each value is zeroed with probability p and the rest
/// scaled by 1/(1-p); identity in evaluation. Any shape. The mask of sample i comes from its own RNG
/// stream (seed, step, i), so it does not depend on the thread count.
public final class Dropout: Layer {
    public let probability: Float
    /// Seed of the masks; the layer advances `step` on every training forward.
    public var seed: UInt64
    var step: UInt64 = 0
    private var mask: [Float] = []

    public init(_ probability: Float, seed: UInt64 = 0) {
        self.probability = probability
        self.seed = seed
    }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        guard training, probability > 0 else { return input }
        step += 1
        let size = input.sampleSize, keep = 1 - probability, scale = 1 / keep
        var m = [Float](repeating: 0, count: input.count)
        let stepSeed = seed &+ step &* 0x9E37_79B9_7F4A_7C15
        m.withUnsafeMutableBufferPointer { mp in
            let base = mp.baseAddress!
            Parallel.forEach(input.batch) { sample in
                var rng = SeededGenerator(seed: stepSeed, stream: UInt64(sample))
                for i in 0..<size { base[sample * size + i] = rng.nextUniform() < keep ? scale : 0 }
            }
        }
        mask = m
        var y = input
        for i in 0..<y.count { y.data[i] *= m[i] }
        return y
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        guard probability > 0 else { return gradOutput }
        var dx = gradOutput
        for i in 0..<dx.count { dx.data[i] *= mask[i] }
        return dx
    }
}
