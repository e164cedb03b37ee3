import Foundation

/// 2-D convolution, `nn.Conv2d` semantics (cross-correlation, zero padding, weight [Cout, Cin, KH, KW],
/// optional bias [Cout]). Each sample is unfolded by im2col and multiplied by the weight matrix with one
/// sgemm; samples are split across cores (one contiguous range per thread, OpenBLAS single-threaded
/// inside). The unfolded columns are not kept between passes: `backward` unfolds again, trading a cheap
/// copy for not holding [Cin*KH*KW, OH*OW] per sample.
public final class Conv2d: Layer {
    public let inChannels, outChannels, kernelSize, stride, padding: Int
    public let weight: Parameter
    public let bias: Parameter?
    private var input: Tensor?

    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                bias: Bool = false) {
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
        weight = Parameter(.trainable, shape: [outChannels, inChannels, kernelSize, kernelSize], fill: 0)
        self.bias = bias ? Parameter(.trainable, shape: [outChannels], fill: 0) : nil
    }

    func geometry(_ x: Tensor) -> ConvGeometry {
        precondition(x.shape.count == 4 && x.channels == inChannels, "conv2d: expected [N,\(inChannels),H,W], found \(x.shape)")
        return ConvGeometry(channels: inChannels, height: x.height, width: x.width, kernelH: kernelSize,
                            kernelW: kernelSize, stride: stride, padding: padding)
    }

    /// [N, Cin, H, W] -> [N, Cout, OH, OW], OH = (H + 2*padding - K) / stride + 1.
    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        let g = geometry(input)
        let n = input.batch, spatial = g.outHeight * g.outWidth, k = g.patchSize, cout = outChannels
        var output = Tensor(uninitialized: [n, cout, g.outHeight, g.outWidth])
        if training { self.input = input }
        let inSize = input.sampleSize, outSize = cout * spatial
        input.data.withUnsafeBufferPointer { xs in
            weight.value.withUnsafeBufferPointer { w in
                output.data.withUnsafeMutableBufferPointer { ys in
                    let x = xs.baseAddress!, y = ys.baseAddress!, wp = w.baseAddress!
                    let bias = self.bias?.value
                    BatchSplit.run(BatchSplit.ranges(n)) { _, range in
                        var cols = Tensor(uninitialized: [g.isPointwise ? 0 : k * spatial]).data
                        cols.withUnsafeMutableBufferPointer { c in
                            for s in range {
                                let xsample = x + s * inSize, ysample = y + s * outSize
                                var b: UnsafePointer<Float> = UnsafePointer(xsample)
                                if !g.isPointwise {
                                    g.im2col(xsample, c.baseAddress!)
                                    b = UnsafePointer(c.baseAddress!)
                                }
                                BLAS.gemm(wp, b, ysample, m: cout, n: spatial, k: k)
                                if let bias {
                                    for o in 0..<cout {
                                        let row = ysample + o * spatial, value = bias[o]
                                        for p in 0..<spatial { row[p] += value }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return output
    }

    /// d[N, Cout, OH, OW] -> d[N, Cin, H, W]; accumulates dW = sum_n dY_n cols_n^T and db = sum dY.
    public func backward(_ gradOutput: Tensor) -> Tensor {
        guard let input else { preconditionFailure("conv2d: backward without a training forward") }
        self.input = nil
        let g = geometry(input)
        let n = input.batch, spatial = g.outHeight * g.outWidth, k = g.patchSize, cout = outChannels
        var gradInput = Tensor(zeros: input.shape)
        let inSize = input.sampleSize, outSize = cout * spatial
        let ranges = BatchSplit.ranges(n)
        var partialW = [[Float]](repeating: [], count: ranges.count)
        var partialB = [[Float]](repeating: [], count: ranges.count)
        let hasBias = bias != nil
        input.data.withUnsafeBufferPointer { xs in
            gradOutput.data.withUnsafeBufferPointer { dys in
                weight.value.withUnsafeBufferPointer { w in
                    gradInput.data.withUnsafeMutableBufferPointer { dxs in
                        partialW.withUnsafeMutableBufferPointer { pw in
                            partialB.withUnsafeMutableBufferPointer { pb in
                                let x = xs.baseAddress!, dy = dys.baseAddress!, dx = dxs.baseAddress!, wp = w.baseAddress!
                                BatchSplit.run(ranges) { part, range in
                                    var dW = [Float](repeating: 0, count: cout * k)
                                    var dB = [Float](repeating: 0, count: hasBias ? cout : 0)
                                    var cols = [Float](repeating: 0, count: g.isPointwise ? 0 : k * spatial)
                                    var dcols = [Float](repeating: 0, count: g.isPointwise ? 0 : k * spatial)
                                    cols.withUnsafeMutableBufferPointer { c in
                                        dcols.withUnsafeMutableBufferPointer { dc in
                                            dW.withUnsafeMutableBufferPointer { dw in
                                                for s in range {
                                                    let xsample = x + s * inSize, dysample = dy + s * outSize
                                                    let dxsample = dx + s * inSize
                                                    if g.isPointwise {
                                                        BLAS.gemm(dysample, xsample, dw.baseAddress!, m: cout, n: k, k: spatial,
                                                                  transposeB: true, beta: 1)
                                                        BLAS.gemm(wp, dysample, dxsample, m: k, n: spatial, k: cout, transposeA: true)
                                                    } else {
                                                        g.im2col(xsample, c.baseAddress!)
                                                        BLAS.gemm(dysample, c.baseAddress!, dw.baseAddress!, m: cout, n: k, k: spatial,
                                                                  transposeB: true, beta: 1)
                                                        BLAS.gemm(wp, dysample, dc.baseAddress!, m: k, n: spatial, k: cout, transposeA: true)
                                                        g.col2im(dc.baseAddress!, dxsample)
                                                    }
                                                    if hasBias {
                                                        for o in 0..<cout {
                                                            let row = dysample + o * spatial
                                                            var sum: Float = 0
                                                            for p in 0..<spatial { sum += row[p] }
                                                            dB[o] += sum
                                                        }
                                                    }
                                                }
                                            }
                                        }
                                    }
                                    pw[part] = dW
                                    pb[part] = dB
                                }
                            }
                        }
                    }
                }
            }
        }
        weight.grad.withUnsafeMutableBufferPointer { BatchSplit.reduce(partialW, into: $0.baseAddress!, size: cout * k) }
        if let bias { bias.grad.withUnsafeMutableBufferPointer { BatchSplit.reduce(partialB, into: $0.baseAddress!, size: cout) } }
        return gradInput
    }

    public func namedParameters() -> [(String, Parameter)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }
}
