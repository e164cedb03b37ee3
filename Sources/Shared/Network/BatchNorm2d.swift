import Foundation

/// Batch normalisation over (N, H, W) per channel, `nn.BatchNorm2d` semantics: training normalises by the
/// batch mean and biased variance and updates `running_mean`/`running_var` with
/// running = (1 - momentum) * running + momentum * batch (the variance term unbiased, times M/(M-1), M = N*H*W),
/// and counts `num_batches_tracked`; evaluation normalises by the running statistics. Channels are
/// independent, so they are split across cores; per-plane float sums are gathered in float64.
public final class BatchNorm2d: Layer {
    public let channels: Int
    public let epsilon: Float
    public let momentum: Float
    public let weight, bias, runningMean, runningVar, batchesTracked: Parameter
    private var normalized: Tensor?
    private var inverseStd: [Float] = []
    private var trainedForward = false

    public init(_ channels: Int, epsilon: Float = 1e-5, momentum: Float = 0.1) {
        self.channels = channels
        self.epsilon = epsilon
        self.momentum = momentum
        weight = Parameter(.trainable, shape: [channels], fill: 1)
        bias = Parameter(.trainable, shape: [channels], fill: 0)
        runningMean = Parameter(.buffer, shape: [channels], fill: 0)
        runningVar = Parameter(.buffer, shape: [channels], fill: 1)
        batchesTracked = Parameter(.counter, shape: [], fill: 0)
    }

    /// [N, C, H, W] (or [N, C]) -> same shape.
    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        precondition(input.shape.count >= 2 && input.shape[1] == channels, "batchnorm: expected [N,\(channels),...], found \(input.shape)")
        let n = input.batch, plane = input.shape.dropFirst(2).reduce(1, *), c = channels
        var output = Tensor(uninitialized: input.shape)
        var xhat = training ? Tensor(uninitialized: input.shape) : Tensor(zeros: [0])
        var invStd = [Float](repeating: 0, count: c)
        var batchMean = [Float](repeating: 0, count: c), batchVar = [Float](repeating: 0, count: c)
        let m = Double(n * plane), eps = Double(epsilon)
        input.data.withUnsafeBufferPointer { xs in
            output.data.withUnsafeMutableBufferPointer { ys in
                xhat.data.withUnsafeMutableBufferPointer { hs in
                    invStd.withUnsafeMutableBufferPointer { inv in
                        batchMean.withUnsafeMutableBufferPointer { bm in
                            batchVar.withUnsafeMutableBufferPointer { bv in
                                let x = xs.baseAddress!, y = ys.baseAddress!, h = training ? hs.baseAddress : nil
                                let gamma = weight.value, beta = bias.value, rm = runningMean.value, rv = runningVar.value
                                Parallel.forEach(c) { ch in
                                    var mean: Double, variance: Double
                                    if training {
                                        // One pass: per-plane float sums (at most H*W terms) gathered in float64.
                                        var sum = 0.0, sumSquares = 0.0
                                        for s in 0..<n {
                                            let p = x + (s * c + ch) * plane
                                            var planeSum: Float = 0, planeSquares: Float = 0
                                            for i in 0..<plane {
                                                planeSum += p[i]
                                                planeSquares += p[i] * p[i]
                                            }
                                            sum += Double(planeSum)
                                            sumSquares += Double(planeSquares)
                                        }
                                        mean = sum / m
                                        variance = max(sumSquares / m - mean * mean, 0)
                                        bm[ch] = Float(mean)
                                        bv[ch] = Float(variance)
                                    } else {
                                        mean = Double(rm[ch])
                                        variance = Double(rv[ch])
                                    }
                                    let istd = Float(1 / (variance + eps).squareRoot())
                                    inv[ch] = istd
                                    let scale = gamma[ch] * istd, shift = beta[ch] - Float(mean) * scale
                                    let fmean = Float(mean)
                                    for s in 0..<n {
                                        let offset = (s * c + ch) * plane
                                        let p = x + offset, q = y + offset
                                        for i in 0..<plane { q[i] = p[i] * scale + shift }
                                        if let h {
                                            let r = h + offset
                                            for i in 0..<plane { r[i] = (p[i] - fmean) * istd }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        trainedForward = training
        inverseStd = invStd
        if training {
            normalized = xhat
            let unbias = m > 1 ? Float(m / (m - 1)) : 1
            for ch in 0..<c {
                runningMean.value[ch] = (1 - momentum) * runningMean.value[ch] + momentum * batchMean[ch]
                runningVar.value[ch] = (1 - momentum) * runningVar.value[ch] + momentum * batchVar[ch] * unbias
            }
            batchesTracked.value[0] += 1
        }
        return output
    }

    /// Training: dx = gamma * istd / M * (M * dy - sum(dy) - xhat * sum(dy * xhat)); dgamma = sum(dy * xhat),
    /// dbeta = sum(dy), sums over (N, H, W) per channel.
    public func backward(_ gradOutput: Tensor) -> Tensor {
        guard trainedForward, let xhat = normalized else { preconditionFailure("batchnorm: backward without a training forward") }
        normalized = nil
        let n = gradOutput.batch, plane = gradOutput.shape.dropFirst(2).reduce(1, *), c = channels
        var gradInput = Tensor(uninitialized: gradOutput.shape)
        let m = Float(n * plane)
        gradOutput.data.withUnsafeBufferPointer { dys in
            xhat.data.withUnsafeBufferPointer { hs in
                gradInput.data.withUnsafeMutableBufferPointer { dxs in
                    weight.grad.withUnsafeMutableBufferPointer { dgamma in
                        bias.grad.withUnsafeMutableBufferPointer { dbeta in
                            let dy = dys.baseAddress!, h = hs.baseAddress!, dx = dxs.baseAddress!
                            let gamma = weight.value, inv = inverseStd
                            Parallel.forEach(c) { ch in
                                var sumDy = 0.0, sumDyH = 0.0
                                for s in 0..<n {
                                    let offset = (s * c + ch) * plane
                                    var planeDy: Float = 0, planeDyH: Float = 0
                                    for i in 0..<plane {
                                        planeDy += dy[offset + i]
                                        planeDyH += dy[offset + i] * h[offset + i]
                                    }
                                    sumDy += Double(planeDy)
                                    sumDyH += Double(planeDyH)
                                }
                                dbeta[ch] += Float(sumDy)
                                dgamma[ch] += Float(sumDyH)
                                let k = gamma[ch] * inv[ch] / m, a = Float(sumDy), b = Float(sumDyH)
                                for s in 0..<n {
                                    let offset = (s * c + ch) * plane
                                    for i in 0..<plane {
                                        dx[offset + i] = k * (m * dy[offset + i] - a - h[offset + i] * b)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return gradInput
    }

    public func namedParameters() -> [(String, Parameter)] {
        [("weight", weight), ("bias", bias), ("running_mean", runningMean), ("running_var", runningVar),
         ("num_batches_tracked", batchesTracked)]
    }
}
