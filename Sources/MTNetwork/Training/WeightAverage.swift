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
/// and the model FixMatch and its successors evaluate and keep. After optimiser step t (0-based) every
/// trainable parameter and batch-norm running statistic becomes
///
///     a <- d_t a + (1 - d_t) w,   d_t = min(decay, (1 + t) / (10 + t))
///
/// the warm-up of TensorFlow's `ExponentialMovingAverage(num_updates:)`: early on the average follows the
/// student closely, so that a run of a few thousand CPU steps is not dominated by the random start (at
/// decay 0.999 a plain average still holds 0.999^1000 = 37 % of it after 1000 steps). Averaging the
/// running statistics with the weights keeps them consistent with each other (copying the student's, as
/// FixMatch's `ModelEMA` does, pairs them with weights from up to 1 / (1 - d) steps ago); counters are copied.
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

    /// d_t after optimiser step `step` (0-based).
    public func decay(afterStep step: Int) -> Double { min(decay, Double(1 + step) / Double(10 + step)) }

    public func update(from student: Network, step: Int) {
        Self.blend(network.namedParameters(), towards: student.namedParameters(), decay: decay(afterStep: step))
    }

    /// a <- d a + (1 - d) w for every parameter and buffer of `averages` (counters copied), paired in order
    /// with `weights`: the update itself, for averaged parameters outside a network (Self-Tuning's key projector).
    public static func blend(_ averages: [(String, Parameter)], towards weights: [(String, Parameter)], decay: Double) {
        precondition(averages.count == weights.count)
        let d = Float(decay), e = 1 - d
        for ((_, average), (_, weight)) in zip(averages, weights) {
            guard average.kind != .counter else {
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
