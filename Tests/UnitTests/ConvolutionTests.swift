import Testing
@testable import MTCore
@testable import MTStorage
@testable import MTAlgorithms
@testable import MTNetwork
@testable import MTCommand

/// Conv2d's unfolded, grouped products against a direct float64 convolution: forward, input gradient,
/// weight and bias gradients. Batches large enough that each `BatchSplit` range holds several samples, so
/// groups of several samples (and a shorter last group) are exercised along with the single-sample path,
/// on both im2col paths (contiguous stride-1 "same" rows and the general one).
@Suite("Convolution")
struct ConvolutionTests {
    struct Case: CustomStringConvertible {
        let inChannels, outChannels, height, width, kernel, stride, padding, batch: Int
        var description: String { "\(inChannels)->\(outChannels) \(height)x\(width) k\(kernel) s\(stride) p\(padding) n\(batch)" }
    }

    static let cases = [
        Case(inChannels: 3, outChannels: 4, height: 5, width: 6, kernel: 3, stride: 1, padding: 1, batch: 20),
        Case(inChannels: 2, outChannels: 5, height: 14, width: 14, kernel: 3, stride: 1, padding: 1, batch: 37),
        Case(inChannels: 3, outChannels: 4, height: 7, width: 7, kernel: 3, stride: 2, padding: 1, batch: 19),
        Case(inChannels: 2, outChannels: 3, height: 6, width: 5, kernel: 3, stride: 1, padding: 0, batch: 17),
        Case(inChannels: 2, outChannels: 3, height: 5, width: 5, kernel: 3, stride: 1, padding: 2, batch: 17),
        Case(inChannels: 2, outChannels: 3, height: 6, width: 7, kernel: 5, stride: 1, padding: 2, batch: 18),
        Case(inChannels: 3, outChannels: 2, height: 8, width: 8, kernel: 2, stride: 2, padding: 0, batch: 24),
        Case(inChannels: 4, outChannels: 3, height: 8, width: 6, kernel: 1, stride: 2, padding: 0, batch: 24),
        Case(inChannels: 4, outChannels: 3, height: 5, width: 5, kernel: 1, stride: 1, padding: 0, batch: 24),
        Case(inChannels: 1, outChannels: 3, height: 3, width: 3, kernel: 3, stride: 1, padding: 1, batch: 9),
    ]

    /// y[n, o, oy, ox] = b[o] + sum_{c,i,j} w[o, c, i, j] x[n, c, oy*s - p + i, ox*s - p + j], and its adjoints.
    static func direct(_ t: Case, x: [Float], w: [Float], b: [Float], dy: [Float])
        -> (y: [Double], dx: [Double], dw: [Double], db: [Double]) {
        let oh = (t.height + 2 * t.padding - t.kernel) / t.stride + 1, ow = (t.width + 2 * t.padding - t.kernel) / t.stride + 1
        var y = [Double](repeating: 0, count: t.batch * t.outChannels * oh * ow)
        var dx = [Double](repeating: 0, count: x.count), dw = [Double](repeating: 0, count: w.count)
        var db = [Double](repeating: 0, count: t.outChannels)
        for n in 0..<t.batch {
            for o in 0..<t.outChannels {
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        let yi = ((n * t.outChannels + o) * oh + oy) * ow + ox
                        var sum = Double(b[o])
                        let g = Double(dy[yi])
                        db[o] += g
                        for c in 0..<t.inChannels {
                            for i in 0..<t.kernel {
                                for j in 0..<t.kernel {
                                    let iy = oy * t.stride - t.padding + i, ix = ox * t.stride - t.padding + j
                                    guard iy >= 0, iy < t.height, ix >= 0, ix < t.width else { continue }
                                    let xi = ((n * t.inChannels + c) * t.height + iy) * t.width + ix
                                    let wi = ((o * t.inChannels + c) * t.kernel + i) * t.kernel + j
                                    sum += Double(w[wi]) * Double(x[xi])
                                    dx[xi] += Double(w[wi]) * g
                                    dw[wi] += Double(x[xi]) * g
                                }
                            }
                        }
                        y[yi] = sum
                    }
                }
            }
        }
        return (y, dx, dw, db)
    }

    static func expectClose(_ actual: [Float], _ expected: [Double], _ what: String) {
        #expect(actual.count == expected.count, "\(what): \(actual.count) values, expected \(expected.count)")
        let scale = max(expected.map(abs).max() ?? 0, 1)
        let worst = zip(actual, expected).map { abs(Double($0) - $1) }.max() ?? 0
        #expect(worst <= 1e-5 * scale, "\(what): worst error \(worst) at scale \(scale)")
    }

    @Test(arguments: cases)
    func groupedUnfoldingMatchesDirectConvolution(_ t: Case) {
        let conv = Conv2d(t.inChannels, t.outChannels, kernelSize: t.kernel, stride: t.stride, padding: t.padding, bias: true)
        NetworkGradientTests.randomize(conv, seed: 11)
        let x = NetworkGradientTests.random([t.batch, t.inChannels, t.height, t.width], seed: 12)
        let y = conv.forward(x, training: true)
        let dy = NetworkGradientTests.random(y.shape, seed: 13)
        let dx = conv.backward(dy)
        let expected = Self.direct(t, x: x.data, w: conv.weight.value, b: conv.bias!.value, dy: dy.data)
        Self.expectClose(y.data, expected.y, "\(t) output")
        Self.expectClose(dx.data, expected.dx, "\(t) input gradient")
        Self.expectClose(conv.weight.grad, expected.dw, "\(t) weight gradient")
        Self.expectClose(conv.bias!.grad, expected.db, "\(t) bias gradient")
    }

    /// Training steps skip the first convolution's input gradient; every parameter gradient must be the
    /// same as with the full backward pass.
    @Test func parameterOnlyBackwardGivesTheSameGradients() {
        let network = Network(.mnistCNN, inputChannels: 1, outputDimension: 10)
        network.initialize(seed: 3)
        let x = NetworkGradientTests.random([12, 1, 12, 12], seed: 14)
        let dy = NetworkGradientTests.random([12, 10], seed: 15)
        var gradients: [[[Float]]] = []
        for full in [true, false] {
            network.zeroGradients()
            _ = network.forward(x, training: true)
            if full { network.backward(dy) } else { network.backwardParameters(dy) }
            gradients.append(network.trainableParameters.map { $0.1.grad })
        }
        #expect(gradients[0] == gradients[1])
        #expect(gradients[0].allSatisfy { $0.contains { $0 != 0 } })
    }
}
