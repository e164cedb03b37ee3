import MTCore

extension Network {
    /// An independent network with the same architecture and every parameter, buffer and counter copied.
    public func copy() -> Network {
        let twin = Network(architecture, inputChannels: inputChannels, outputDimension: outputDimension,
                           normalizesOutput: normalizesOutput, inputMean: inputMean, inputStd: inputStd)
        for ((_, target), (_, source)) in zip(twin.namedParameters(), namedParameters()) { target.value = source.value }
        return twin
    }
}

/// An exponential moving average of a network's weights (Polyak averaging): the mean teacher's teacher
/// and the model FixMatch and its successors evaluate and keep. After every optimiser step each trainable
/// parameter becomes a <- decay * a + (1 - decay) * w; batch-norm running statistics and counters are
/// copied from the student (they are running averages already), as FixMatch's `ModelEMA` does.
public final class WeightAverage {
    public let network: Network
    public let decay: Double

    public init(of student: Network, decay: Double) {
        precondition(decay >= 0 && decay < 1)
        network = student.copy()
        self.decay = decay
    }

    /// Continues an average stored in a checkpoint.
    public init(restored average: Network, decay: Double) {
        network = average
        self.decay = decay
    }

    public func update(from student: Network) {
        let d = Float(decay), e = 1 - Float(decay)
        for ((_, average), (_, weight)) in zip(network.namedParameters(), student.namedParameters()) {
            guard average.kind == .trainable else {
                average.value = weight.value
                continue
            }
            average.value.withUnsafeMutableBufferPointer { a in
                weight.value.withUnsafeBufferPointer { w in
                    for i in 0..<a.count { a[i] = d * a[i] + e * w[i] }
                }
            }
        }
    }
}
