import Foundation
import MTAlgorithms
import MTCore

/// Batch normalisation over (N, H, W) per channel, `nn.BatchNorm2d` semantics: training normalises by the
/// batch mean and biased variance and updates `running_mean`/`running_var` with
/// running = (1 - momentum) * running + momentum * batch (the variance term unbiased, times M/(M-1), M = N*H*W),
/// and counts `num_batches_tracked`; evaluation normalises by the running statistics. Channels are
/// independent, so they are split across cores; per-plane float sums (8 interleaved lanes, so they
/// vectorise) are gathered in float64. Training keeps the input, not the normalised values: backward
/// recomputes xhat = (x - mean) * istd on the fly, which saves a full write pass in forward.
public final class BatchNorm2d: Layer {
    public let channels: Int
    public let epsilon: Float
    public let momentum: Float
    public let weight, bias, runningMean, runningVar, batchesTracked: Parameter
    private var input: Tensor?
    private var mean: [Float] = []
    private var inverseStd: [Float] = []

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

    /// (sum a, sum a * (b - center)) over `count` values, in 8 lanes added up at the end.
    @inline(__always)
    static func sums(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int, center: Float = 0) -> (Float, Float) {
        var s = SIMD8<Float>(), t = SIMD8<Float>()
        let centers = SIMD8<Float>(repeating: center)
        var i = 0
        while i + 8 <= count {
            let u = UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Float>.self)
            let v = UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<Float>.self)
            s += u
            t += u * (v - centers)
            i += 8
        }
        var sum = s.sum(), products = t.sum()
        while i < count {
            sum += a[i]
            products += a[i] * (b[i] - center)
            i += 1
        }
        return (sum, products)
    }

    /// [N, C, H, W] (or [N, C]) -> same shape.
    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        precondition(input.shape.count >= 2 && input.shape[1] == channels, "batchnorm: expected [N,\(channels),...], found \(input.shape)")
        let n = input.batch, plane = input.shape.dropFirst(2).reduce(1, *), c = channels
        var output = Tensor(uninitialized: input.shape)
        var invStd = [Float](repeating: 0, count: c)
        var batchMean = [Float](repeating: 0, count: c), batchVar = [Float](repeating: 0, count: c)
        let m = Double(n * plane), eps = Double(epsilon)
        input.data.withUnsafeBufferPointer { xs in
            output.data.withUnsafeMutableBufferPointer { ys in
                invStd.withUnsafeMutableBufferPointer { inv in
                    batchMean.withUnsafeMutableBufferPointer { bm in
                        batchVar.withUnsafeMutableBufferPointer { bv in
                            let x = xs.baseAddress!, y = ys.baseAddress!
                            let gamma = weight.value, beta = bias.value, rm = runningMean.value, rv = runningVar.value
                            Parallel.forEach(c) { ch in
                                var mean: Double, variance: Double
                                if training {
                                    // One pass: per-plane float sums (at most H*W terms) gathered in float64.
                                    var sum = 0.0, sumSquares = 0.0
                                    for s in 0..<n {
                                        let p = x + (s * c + ch) * plane
                                        let (planeSum, planeSquares) = Self.sums(p, p, plane)
                                        sum += Double(planeSum)
                                        sumSquares += Double(planeSquares)
                                    }
                                    mean = sum / m
                                    variance = max(sumSquares / m - mean * mean, 0)
                                    bv[ch] = Float(variance)
                                } else {
                                    mean = Double(rm[ch])
                                    variance = Double(rv[ch])
                                }
                                bm[ch] = Float(mean)
                                let istd = Float(1 / (variance + eps).squareRoot())
                                inv[ch] = istd
                                let scale = gamma[ch] * istd, shift = beta[ch] - Float(mean) * scale
                                for s in 0..<n {
                                    let offset = (s * c + ch) * plane
                                    let p = x + offset, q = y + offset
                                    for i in 0..<plane { q[i] = p[i] * scale + shift }
                                }
                            }
                        }
                    }
                }
            }
        }
        if training {
            self.input = input
            mean = batchMean
            inverseStd = invStd
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
    /// dbeta = sum(dy), sums over (N, H, W) per channel, with xhat = (x - mean) * istd.
    public func backward(_ gradOutput: Tensor) -> Tensor {
        guard let input else { preconditionFailure("batchnorm: backward without a training forward") }
        self.input = nil
        let n = gradOutput.batch, plane = gradOutput.shape.dropFirst(2).reduce(1, *), c = channels
        var gradInput = Tensor(uninitialized: gradOutput.shape)
        let m = Float(n * plane)
        gradOutput.data.withUnsafeBufferPointer { dys in
            input.data.withUnsafeBufferPointer { xs in
                gradInput.data.withUnsafeMutableBufferPointer { dxs in
                    weight.grad.withUnsafeMutableBufferPointer { dgamma in
                        bias.grad.withUnsafeMutableBufferPointer { dbeta in
                            let dy = dys.baseAddress!, x = xs.baseAddress!, dx = dxs.baseAddress!
                            let gamma = weight.value, inv = inverseStd, means = mean
                            Parallel.forEach(c) { ch in
                                let istd = inv[ch], mu = means[ch]
                                var sumDy = 0.0, sumDyCentered = 0.0
                                for s in 0..<n {
                                    let offset = (s * c + ch) * plane
                                    let (planeDy, planeDyCentered) = Self.sums(dy + offset, x + offset, plane, center: mu)
                                    sumDy += Double(planeDy)
                                    sumDyCentered += Double(planeDyCentered)
                                }
                                let sumDyH = sumDyCentered * Double(istd)
                                dbeta[ch] += Float(sumDy)
                                dgamma[ch] += Float(sumDyH)
                                // k * (M dy - a - xhat b) = (k M) dy - (k istd b) (x - mean) - k a
                                let k = gamma[ch] * istd / m, a = Float(sumDy), b = Float(sumDyH)
                                let scaleDy = k * m, scaleX = k * istd * b, shift = k * a
                                for s in 0..<n {
                                    let offset = (s * c + ch) * plane
                                    let g = dy + offset, p = x + offset, d = dx + offset
                                    for i in 0..<plane { d[i] = scaleDy * g[i] - scaleX * (p[i] - mu) - shift }
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
