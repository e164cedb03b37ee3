import MTAlgorithms
import MTCore

/// Max pooling, `nn.MaxPool2d(kernel, stride, padding)`: [N, C, H, W] -> [N, C, OH, OW],
/// OH = (H + 2 padding - kernel) / stride + 1. Padding counts as -infinity (it never wins), as in PyTorch,
/// so a window only compares the pixels it covers. The position of each maximum (first one on ties, as
/// PyTorch) is kept so backward routes dy there.
public final class MaxPool2d: Layer {
    public let kernelSize, stride, padding: Int
    private var argmax: [Int32] = []
    private var inputShape: [Int] = []

    public init(kernelSize: Int, stride: Int? = nil, padding: Int = 0) {
        precondition(padding <= kernelSize / 2, "maxpool: padding \(padding) exceeds half the kernel \(kernelSize)")
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.padding = padding
    }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        let (n, c, h, w) = (input.batch, input.channels, input.height, input.width)
        let p = padding
        let oh = (h + 2 * p - kernelSize) / stride + 1, ow = (w + 2 * p - kernelSize) / stride + 1
        var output = Tensor(uninitialized: [n, c, oh, ow])
        var positions = [Int32](repeating: 0, count: training ? output.count : 0)
        let k = kernelSize, s = stride
        input.data.withUnsafeBufferPointer { xs in
            output.data.withUnsafeMutableBufferPointer { ys in
                positions.withUnsafeMutableBufferPointer { ps in
                    let x = xs.baseAddress!, y = ys.baseAddress!, pos = training ? ps.baseAddress : nil
                    Parallel.forEach(n * c) { planeIndex in
                        let src = x + planeIndex * h * w, dst = planeIndex * oh * ow
                        if k == 2 && s == 2 && p == 0 {
                            // The usual 2x2 window unrolled; strict > keeps the first maximum, as the loop below.
                            for oy in 0..<oh {
                                for ox in 0..<ow {
                                    let top = 2 * oy * w + 2 * ox, bottom = top + w
                                    var at = top, best = src[top]
                                    if src[top + 1] > best { best = src[top + 1]; at = top + 1 }
                                    if src[bottom] > best { best = src[bottom]; at = bottom }
                                    if src[bottom + 1] > best { best = src[bottom + 1]; at = bottom + 1 }
                                    y[dst + oy * ow + ox] = best
                                    pos?[dst + oy * ow + ox] = Int32(at)
                                }
                            }
                            return
                        }
                        for oy in 0..<oh {
                            // The window clipped to the image; padding <= kernel / 2 keeps it non-empty.
                            let top = oy * s - p, rows = max(0, top)..<min(h, top + k)
                            for ox in 0..<ow {
                                let left = ox * s - p, columns = max(0, left)..<min(w, left + k)
                                var at = rows.lowerBound * w + columns.lowerBound
                                var best = src[at]
                                for iy in rows {
                                    for ix in columns where src[iy * w + ix] > best {
                                        best = src[iy * w + ix]
                                        at = iy * w + ix
                                    }
                                }
                                y[dst + oy * ow + ox] = best
                                pos?[dst + oy * ow + ox] = Int32(at)
                            }
                        }
                    }
                }
            }
        }
        if training {
            argmax = positions
            inputShape = input.shape
        }
        return output
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        precondition(!inputShape.isEmpty, "maxpool: backward without a training forward")
        var gradInput = Tensor(zeros: inputShape)
        let planeIn = inputShape[2] * inputShape[3], planeOut = gradOutput.height * gradOutput.width
        gradOutput.data.withUnsafeBufferPointer { dys in
            gradInput.data.withUnsafeMutableBufferPointer { dxs in
                argmax.withUnsafeBufferPointer { ps in
                    let dy = dys.baseAddress!, dx = dxs.baseAddress!, pos = ps.baseAddress!
                    Parallel.forEach(inputShape[0] * inputShape[1]) { planeIndex in
                        let d = dx + planeIndex * planeIn, o = planeIndex * planeOut
                        for i in 0..<planeOut { d[Int(pos[o + i])] += dy[o + i] }
                    }
                }
            }
        }
        inputShape = []
        argmax = []
        return gradInput
    }
}

/// Average pooling, `nn.AvgPool2d(kernel, stride)` without padding; `GlobalAvgPool` is the usual
/// special case. [N, C, H, W] -> [N, C, OH, OW]; each input pixel gets dy / kernel^2 from every window
/// that contains it.
public final class AvgPool2d: Layer {
    public let kernelSize, stride: Int
    private var inputShape: [Int] = []

    public init(kernelSize: Int, stride: Int? = nil) {
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
    }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        let (n, c, h, w) = (input.batch, input.channels, input.height, input.width)
        let oh = (h - kernelSize) / stride + 1, ow = (w - kernelSize) / stride + 1
        var output = Tensor(zeros: [n, c, oh, ow])
        let k = kernelSize, s = stride, scale = 1 / Float(k * k)
        input.data.withUnsafeBufferPointer { xs in
            output.data.withUnsafeMutableBufferPointer { ys in
                let x = xs.baseAddress!, y = ys.baseAddress!
                Parallel.forEach(n * c) { planeIndex in
                    let src = x + planeIndex * h * w, dst = y + planeIndex * oh * ow
                    for oy in 0..<oh {
                        for ox in 0..<ow {
                            var sum: Float = 0
                            for i in 0..<k { for j in 0..<k { sum += src[(oy * s + i) * w + ox * s + j] } }
                            dst[oy * ow + ox] = sum * scale
                        }
                    }
                }
            }
        }
        if training { inputShape = input.shape }
        return output
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        precondition(!inputShape.isEmpty, "avgpool: backward without a training forward")
        var gradInput = Tensor(zeros: inputShape)
        let (h, w) = (inputShape[2], inputShape[3]), (oh, ow) = (gradOutput.height, gradOutput.width)
        let k = kernelSize, s = stride, scale = 1 / Float(k * k)
        gradOutput.data.withUnsafeBufferPointer { dys in
            gradInput.data.withUnsafeMutableBufferPointer { dxs in
                let dy = dys.baseAddress!, dx = dxs.baseAddress!
                Parallel.forEach(inputShape[0] * inputShape[1]) { planeIndex in
                    let d = dx + planeIndex * h * w, g = dy + planeIndex * oh * ow
                    for oy in 0..<oh {
                        for ox in 0..<ow {
                            let value = g[oy * ow + ox] * scale
                            for i in 0..<k { for j in 0..<k { d[(oy * s + i) * w + ox * s + j] += value } }
                        }
                    }
                }
            }
        }
        inputShape = []
        return gradInput
    }
}

/// Mean over all pixels of each channel, then flattened: [N, C, H, W] -> [N, C]
/// (`F.adaptive_avg_pool2d(x, 1).flatten(1)`, and `F.avg_pool2d(x, H)` + `view` when the kernel covers the map).
public final class GlobalAvgPool: Layer {
    private var inputShape: [Int] = []

    public init() {}

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        let planes = input.batch * input.channels, plane = input.height * input.width
        var output = Tensor(zeros: [input.batch, input.channels])
        let scale = 1 / Float(plane)
        input.data.withUnsafeBufferPointer { xs in
            output.data.withUnsafeMutableBufferPointer { ys in
                for p in 0..<planes {
                    var sum: Float = 0
                    for i in 0..<plane { sum += xs[p * plane + i] }
                    ys[p] = sum * scale
                }
            }
        }
        if training { inputShape = input.shape }
        return output
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        precondition(!inputShape.isEmpty, "global avg pool: backward without a training forward")
        var gradInput = Tensor(zeros: inputShape)
        let plane = inputShape[2] * inputShape[3], scale = 1 / Float(plane)
        gradInput.data.withUnsafeMutableBufferPointer { dx in
            for p in 0..<gradOutput.count {
                let value = gradOutput.data[p] * scale
                for i in 0..<plane { dx[p * plane + i] = value }
            }
        }
        inputShape = []
        return gradInput
    }
}
