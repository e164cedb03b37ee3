/// The unfolding that turns a convolution into one matrix product: sample [C, H, W] becomes columns
/// [C*KH*KW, OH*OW] where row (c, i, j) holds input pixel (c, oy*stride - pad + i, ox*stride - pad + j)
/// for every output position (oy, ox), zero outside the image. `col2im` is its adjoint: it adds each
/// column entry back onto the pixel it came from, which is exactly the input gradient of the unfolding.
struct ConvGeometry: Sendable {
    let channels, height, width, kernelH, kernelW, stride, padding: Int

    var outHeight: Int { (height + 2 * padding - kernelH) / stride + 1 }
    var outWidth: Int { (width + 2 * padding - kernelW) / stride + 1 }
    /// Rows of the unfolded matrix (the gemm's inner dimension).
    var patchSize: Int { channels * kernelH * kernelW }
    /// A 1x1, stride-1, unpadded convolution needs no unfolding: the sample already is the matrix.
    var isPointwise: Bool { kernelH == 1 && kernelW == 1 && stride == 1 && padding == 0 }

    func im2col(_ x: UnsafePointer<Float>, _ cols: UnsafeMutablePointer<Float>) {
        let oh = outHeight, ow = outWidth
        var row = 0
        for c in 0..<channels {
            let plane = x + c * height * width
            for i in 0..<kernelH {
                for j in 0..<kernelW {
                    let dst = cols + row * oh * ow
                    // Output columns whose input column ix = ox*stride - pad + j lies inside the image.
                    let first = max(0, (padding - j + stride - 1) / stride)
                    let last = min(ow, (width + padding - j + stride - 1) / stride)
                    for oy in 0..<oh {
                        let iy = oy * stride - padding + i
                        let d = dst + oy * ow
                        if iy < 0 || iy >= height || first >= last {
                            for ox in 0..<ow { d[ox] = 0 }
                            continue
                        }
                        let src = plane + iy * width
                        // Plain loops: rows are short (7-32 values), where memcpy/memset calls cost more than the copy.
                        for ox in 0..<first { d[ox] = 0 }
                        if stride == 1 {
                            let s = src + (j - padding)
                            for ox in first..<last { d[ox] = s[ox] }
                        } else {
                            var ix = first * stride - padding + j
                            for ox in first..<last {
                                d[ox] = src[ix]
                                ix += stride
                            }
                        }
                        for ox in last..<ow { d[ox] = 0 }
                    }
                    row += 1
                }
            }
        }
    }

    /// dx += col2im(dcols); `dx` must be zeroed by the caller for a plain adjoint.
    func col2im(_ cols: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>) {
        let oh = outHeight, ow = outWidth
        var row = 0
        for c in 0..<channels {
            let plane = dx + c * height * width
            for i in 0..<kernelH {
                for j in 0..<kernelW {
                    let src = cols + row * oh * ow
                    let first = max(0, (padding - j + stride - 1) / stride)
                    let last = min(ow, (width + padding - j + stride - 1) / stride)
                    row += 1
                    guard first < last else { continue }
                    for oy in 0..<oh {
                        let iy = oy * stride - padding + i
                        if iy < 0 || iy >= height { continue }
                        let d = plane + iy * width
                        let s = src + oy * ow
                        var ix = first * stride - padding + j
                        for ox in first..<last {
                            d[ix] += s[ox]
                            ix += stride
                        }
                    }
                }
            }
        }
    }
}
