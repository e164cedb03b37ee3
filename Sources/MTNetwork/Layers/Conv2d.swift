import MTAlgorithms
import MTCore

/// 2-D convolution, `nn.Conv2d` semantics (cross-correlation, zero padding, weight [Cout, Cin, KH, KW],
/// optional bias [Cout]). Samples are unfolded by im2col, a few side by side (`groupSize`), and multiplied
/// by the weight matrix with one sgemm per group; the batch is split across cores (`BatchSplit`, OpenBLAS
/// single-threaded inside). The unfolded columns are not kept between passes: `backward` unfolds again,
/// trading a cheap copy for not holding [Cin*KH*KW, OH*OW] per sample.
public final class Conv2d: Layer {
    public let inChannels, outChannels, kernelSize, stride, padding: Int
    public let weight: Parameter
    public let bias: Parameter?
    /// False for a network's first layer while training (`Network.backwardParameters`): nothing consumes the
    /// gradient of the images, so `backward` only accumulates dW and db and returns an empty tensor.
    public var computesInputGradient = true
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

    /// Columns each sgemm should at least have. One sample of a 7x7 or 8x8 map gives 49-64, where the
    /// BLAS kernel runs far below its speed (and the weight-gradient product, whose inner dimension this is,
    /// mostly loads and stores its output); unfolding several samples side by side fixes both.
    static let minimumColumns = 512

    /// Samples unfolded together: depends only on the layer and the input size, so the summation order
    /// (and every result) is the same for any thread count.
    static func groupSize(_ g: ConvGeometry) -> Int {
        g.isPointwise ? 1 : max(1, (minimumColumns + g.outHeight * g.outWidth - 1) / (g.outHeight * g.outWidth))
    }

    /// [N, Cin, H, W] -> [N, Cout, OH, OW], OH = (H + 2*padding - K) / stride + 1.
    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        let g = geometry(input)
        let n = input.batch, spatial = g.outHeight * g.outWidth, k = g.patchSize, cout = outChannels
        var output = Tensor(uninitialized: [n, cout, g.outHeight, g.outWidth])
        if training { self.input = input }
        let inSize = input.sampleSize, outSize = cout * spatial, groupSize = Self.groupSize(g)
        input.data.withUnsafeBufferPointer { xs in
            weight.value.withUnsafeBufferPointer { w in
                output.data.withUnsafeMutableBufferPointer { ys in
                    let x = xs.baseAddress!, y = ys.baseAddress!, wp = w.baseAddress!
                    let bias = self.bias?.value
                    BatchSplit.run(BatchSplit.ranges(n)) { _, range in
                        let group = min(groupSize, range.count)
                        var cols = Tensor(uninitialized: [g.isPointwise ? 0 : k * group * spatial]).data
                        var product = Tensor(uninitialized: [group > 1 ? cout * group * spatial : 0]).data
                        cols.withUnsafeMutableBufferPointer { cs in
                            product.withUnsafeMutableBufferPointer { ps in
                                for start in Swift.stride(from: range.lowerBound, to: range.upperBound, by: group) {
                                    let count = min(group, range.upperBound - start), columns = count * spatial
                                    let ysample = y + start * outSize
                                    var b = UnsafePointer(x + start * inSize)
                                    if !g.isPointwise {
                                        for j in 0..<count {
                                            g.im2col(x + (start + j) * inSize, cs.baseAddress! + j * spatial, columnStride: columns)
                                        }
                                        b = UnsafePointer(cs.baseAddress!)
                                    }
                                    if count == 1 {
                                        BLAS.gemm(wp, b, ysample, m: cout, n: spatial, k: k)
                                    } else {
                                        // [Cout, count*spatial] -> count samples of [Cout, spatial].
                                        BLAS.gemm(wp, b, ps.baseAddress!, m: cout, n: columns, k: k)
                                        for j in 0..<count {
                                            for o in 0..<cout {
                                                (ysample + j * outSize + o * spatial)
                                                    .update(from: ps.baseAddress! + o * columns + j * spatial, count: spatial)
                                            }
                                        }
                                    }
                                    if let bias {
                                        for j in 0..<count {
                                            for o in 0..<cout {
                                                let row = ysample + j * outSize + o * spatial, value = bias[o]
                                                for p in 0..<spatial { row[p] += value }
                                            }
                                        }
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

    /// The input gradient of a stride-1 convolution is itself a stride-1 convolution: dY correlated with
    /// the kernel flipped in space and transposed in channels, W'[c, o, i, j] = W[o, c, K-1-i, K-1-j], padded
    /// K-1-pad. Unfolding dY and multiplying by W' [Cin, Cout*K*K] writes every input pixel once, where
    /// dcols = W^T dY followed by col2im needs a [Cin*K*K, OH*OW] product (with BLAS zeroing it first),
    /// a zeroed dx and a scatter-add. Returns dY's geometry and W', or nil for strided convolutions.
    func transposedConvolution(_ g: ConvGeometry) -> (geometry: ConvGeometry, weight: [Float])? {
        guard stride == 1, !g.isPointwise, padding <= kernelSize - 1 else { return nil }
        let kk = kernelSize, cin = inChannels, cout = outChannels
        var flipped = [Float](repeating: 0, count: weight.value.count)
        weight.value.withUnsafeBufferPointer { w in
            for o in 0..<cout {
                for c in 0..<cin {
                    for i in 0..<kk {
                        for j in 0..<kk {
                            flipped[c * cout * kk * kk + (o * kk + i) * kk + j] = w[((o * cin + c) * kk + kk - 1 - i) * kk + kk - 1 - j]
                        }
                    }
                }
            }
        }
        let dyGeometry = ConvGeometry(channels: cout, height: g.outHeight, width: g.outWidth, kernelH: kk, kernelW: kk,
                                      stride: 1, padding: kk - 1 - padding)
        return (dyGeometry, flipped)
    }

    /// d[N, Cout, OH, OW] -> d[N, Cin, H, W]; accumulates dW = sum_n dY_n cols_n^T and db = sum dY.
    public func backward(_ gradOutput: Tensor) -> Tensor {
        guard let input else { preconditionFailure("conv2d: backward without a training forward") }
        self.input = nil
        let g = geometry(input)
        let n = input.batch, spatial = g.outHeight * g.outWidth, k = g.patchSize, cout = outChannels, cin = inChannels
        let needsInput = computesInputGradient
        var gradInput = needsInput ? Tensor(uninitialized: input.shape) : Tensor(zeros: [0])
        let inSize = input.sampleSize, outSize = cout * spatial, groupSize = Self.groupSize(g)
        let ranges = BatchSplit.ranges(n)
        var partialW = [[Float]](repeating: [], count: ranges.count)
        var partialB = [[Float]](repeating: [], count: ranges.count)
        let hasBias = bias != nil
        let transposed = needsInput ? transposedConvolution(g) : nil
        let flipped = transposed?.weight ?? []
        input.data.withUnsafeBufferPointer { xs in
            gradOutput.data.withUnsafeBufferPointer { dys in
                weight.value.withUnsafeBufferPointer { w in
                    flipped.withUnsafeBufferPointer { wf in
                        gradInput.data.withUnsafeMutableBufferPointer { dxs in
                            partialW.withUnsafeMutableBufferPointer { pw in
                                partialB.withUnsafeMutableBufferPointer { pb in
                                    let x = xs.baseAddress!, dy = dys.baseAddress!, wp = w.baseAddress!
                                    // Not `dxs.baseAddress` alone: an empty array still hands out a (shared) address.
                                    let dx = needsInput ? dxs.baseAddress : nil
                                    BatchSplit.run(ranges) { part, range in
                                        let group = min(groupSize, range.count)
                                        let work = BackwardWorkspace(group: group, spatial: spatial, inSpatial: inSize / cin,
                                                                     g: g, cout: cout, cin: cin, hasBias: hasBias,
                                                                     transposedRows: transposed?.geometry.patchSize)
                                        for start in Swift.stride(from: range.lowerBound, to: range.upperBound, by: group) {
                                            let count = min(group, range.upperBound - start), columns = count * spatial
                                            // dY of the group as one [Cout, count*spatial] matrix.
                                            var dyg = UnsafePointer(dy + start * outSize)
                                            if count > 1 {
                                                for j in 0..<count {
                                                    for o in 0..<cout {
                                                        (work.gathered + o * columns + j * spatial)
                                                            .update(from: dy + (start + j) * outSize + o * spatial, count: spatial)
                                                    }
                                                }
                                                dyg = UnsafePointer(work.gathered)
                                            }
                                            let beta: Float = start == range.lowerBound ? 0 : 1
                                            if g.isPointwise {
                                                BLAS.gemm(dyg, x + start * inSize, work.dW, m: cout, n: k, k: spatial,
                                                          transposeB: true, beta: beta)
                                                if let dx {
                                                    BLAS.gemm(wp, dyg, dx + start * inSize, m: k, n: spatial, k: cout, transposeA: true)
                                                }
                                            } else {
                                                for j in 0..<count {
                                                    g.im2col(x + (start + j) * inSize, work.cols + j * spatial, columnStride: columns)
                                                }
                                                BLAS.gemm(dyg, work.cols, work.dW, m: cout, n: k, k: columns, transposeB: true, beta: beta)
                                                if let dx, let (dyGeometry, _) = transposed {
                                                    let inSpatial = inSize / cin, inColumns = count * inSpatial
                                                    for j in 0..<count {
                                                        dyGeometry.im2col(dy + (start + j) * outSize, work.dcols + j * inSpatial,
                                                                          columnStride: inColumns)
                                                    }
                                                    let target = count == 1 ? dx + start * inSize : work.product
                                                    BLAS.gemm(wf.baseAddress!, work.dcols, target, m: cin, n: inColumns,
                                                              k: dyGeometry.patchSize)
                                                    if count > 1 {
                                                        for j in 0..<count {
                                                            for c in 0..<cin {
                                                                (dx + (start + j) * inSize + c * inSpatial)
                                                                    .update(from: work.product + c * inColumns + j * inSpatial, count: inSpatial)
                                                            }
                                                        }
                                                    }
                                                } else if let dx {
                                                    BLAS.gemm(wp, dyg, work.dcols, m: k, n: columns, k: cout, transposeA: true)
                                                    for j in 0..<count {
                                                        let dxsample = dx + (start + j) * inSize
                                                        dxsample.update(repeating: 0, count: inSize)
                                                        g.col2im(work.dcols + j * spatial, dxsample, columnStride: columns)
                                                    }
                                                }
                                            }
                                            if hasBias {
                                                for o in 0..<cout {
                                                    let row = dyg + o * columns
                                                    var sum: Float = 0
                                                    for p in 0..<columns { sum += row[p] }
                                                    work.dB[o] += sum
                                                }
                                            }
                                        }
                                        pw[part] = work.weightGradient
                                        pb[part] = work.biasGradient
                                    }
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

/// One batch range's scratch for `Conv2d.backward`: the unfolded input (for dW), the unfolded dY or the
/// dcols product (for dx), the gathered dY of a group, the grouped dx product, and the partial dW and db.
private final class BackwardWorkspace {
    let dW, dB, cols, dcols, gathered, product: UnsafeMutablePointer<Float>
    let weightCount, biasCount: Int

    init(group: Int, spatial: Int, inSpatial: Int, g: ConvGeometry, cout: Int, cin: Int, hasBias: Bool, transposedRows: Int?) {
        func allocate(_ count: Int) -> UnsafeMutablePointer<Float> { .allocate(capacity: max(count, 1)) }
        weightCount = cout * g.patchSize
        biasCount = hasBias ? cout : 0
        dW = allocate(weightCount)
        dB = allocate(biasCount)
        dB.initialize(repeating: 0, count: biasCount)
        cols = allocate(g.isPointwise ? 0 : g.patchSize * group * spatial)
        dcols = allocate(g.isPointwise ? 0 : transposedRows.map { $0 * group * inSpatial } ?? g.patchSize * group * spatial)
        gathered = allocate(group > 1 ? cout * group * spatial : 0)
        product = allocate(group > 1 && transposedRows != nil ? cin * group * inSpatial : 0)
    }

    var weightGradient: [Float] { Array(UnsafeBufferPointer(start: dW, count: weightCount)) }
    var biasGradient: [Float] { Array(UnsafeBufferPointer(start: dB, count: biasCount)) }

    deinit {
        for buffer in [dW, dB, cols, dcols, gathered, product] { buffer.deallocate() }
    }
}
