import Foundation
import MTAlgorithms
import MTCore

extension Network {
    /// Fresh weights from `seed`: convolutions He-normal over fan-out, N(0, sqrt(2 / (k*k*out))) as the
    /// reference WideResNet does (and it trains the plain CNN and ResNet as well); batchnorm weight 1,
    /// bias 0; the linear head as PyTorch's default, U(-1/sqrt(in), 1/sqrt(in)) for weight and bias.
    /// Each parameter draws from its own stream (its index), so the result is fixed by the seed alone.
    public func initialize(seed: UInt64) {
        for (index, (_, parameter)) in body.namedParameters().enumerated() where parameter.kind == .trainable {
            var rng = SeededGenerator(seed: seed, stream: UInt64(index))
            if parameter.shape.count == 4 {
                let fanOut = parameter.shape[0] * parameter.shape[2] * parameter.shape[3]
                let std = Float((2.0 / Double(fanOut)).squareRoot())
                for i in 0..<parameter.value.count { parameter.value[i] = rng.nextNormal() * std }
            }
        }
        initializeHead(seed: seed)
    }

    func initializeHead(seed: UInt64) {
        var rng = SeededGenerator(seed: seed, stream: 1 << 32)
        head.initializeAsPyTorch(using: &rng)
    }
}

extension Linear {
    /// PyTorch's default for `nn.Linear`: weight, then bias, each U(-1/sqrt(in), 1/sqrt(in)).
    public func initializeAsPyTorch(using rng: inout SeededGenerator) {
        let bound = 1 / Float(inFeatures).squareRoot()
        for parameter in [weight, bias] {
            for i in 0..<parameter.value.count { parameter.value[i] = (2 * rng.nextUniform() - 1) * bound }
        }
    }
}
