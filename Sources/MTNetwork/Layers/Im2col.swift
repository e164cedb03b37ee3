import MTAlgorithms
import MTCore

/// The unfolding that turns a convolution into one matrix product: sample [C, H, W] becomes columns
/// [C*KH*KW, OH*OW] where row (c, i, j) holds input pixel (c, oy*stride - pad + i, ox*stride - pad + j)
/// for every output position (oy, ox), zero outside the image. `col2im` is its adjoint: it adds each
/// column entry back onto the pixel it came from, which is exactly the input gradient of the unfolding.
///
/// Both take a `columnStride` (the distance between rows of the column matrix, default OH*OW) so that
/// several samples can sit side by side in one wider matrix.
struct ConvGeometry: Sendable {
    let channels, height, width, kernelH, kernelW, stride, padding: Int

    var outHeight: Int { (height + 2 * padding - kernelH) / stride + 1 }
    var outWidth: Int { (width + 2 * padding - kernelW) / stride + 1 }
    /// Rows of the unfolded matrix (the gemm's inner dimension).
    var patchSize: Int { channels * kernelH * kernelW }
    /// A 1x1, stride-1, unpadded convolution needs no unfolding: the sample already is the matrix.
    var isPointwise: Bool { kernelH == 1 && kernelW == 1 && stride == 1 && padding == 0 }
    /// Stride 1 with output rows as long as input rows (the usual "same" padding): then output position q
    /// reads input position q + (i - pad) * W + (j - pad), so a whole kernel row (c, i, j) moves as one
    /// contiguous block instead of OH short row copies.
    private var isContiguous: Bool { stride == 1 && outWidth == width }

    /// Output positions whose input coordinate o*stride - pad + offset lies in 0..<extent: `first..<last`.
    @inline(__always)
    private func valid(offset: Int, extent: Int, outputs: Int) -> (first: Int, last: Int) {
        let first = min(outputs, max(0, (padding - offset + stride - 1) / stride))
        return (first, max(first, min(outputs, (extent + padding - offset + stride - 1) / stride)))
    }

    func im2col(_ x: UnsafePointer<Float>, _ cols: UnsafeMutablePointer<Float>, columnStride: Int? = nil) {
        let oh = outHeight, ow = outWidth, ld = columnStride ?? oh * ow
        var row = 0
        for c in 0..<channels {
            let plane = x + c * height * width
            for i in 0..<kernelH {
                let (firstRow, lastRow) = valid(offset: i, extent: height, outputs: oh)
                for j in 0..<kernelW {
                    let dst = cols + row * ld
                    row += 1
                    let (first, last) = valid(offset: j, extent: width, outputs: ow)
                    guard firstRow < lastRow, first < last else {
                        for q in 0..<(oh * ow) { dst[q] = 0 }
                        continue
                    }
                    for q in 0..<(firstRow * ow) { dst[q] = 0 }
                    for q in (lastRow * ow)..<(oh * ow) { dst[q] = 0 }
                    if isContiguous {
                        // One block (memcpy, vectorised at run time) from the first valid entry to the last;
                        // the entries that wrapped around a row edge (ox outside first..<last, at most
                        // `padding` per row end) are zeroed after, column by column.
                        let lo = firstRow * ow + first, hi = (lastRow - 1) * ow + last
                        (dst + lo).update(from: plane + ((i - padding) * width + j - padding) + lo, count: hi - lo)
                        for edge in 0..<(first + ow - last) {
                            var q = firstRow * ow + (edge < first ? edge : last + edge - first)
                            for _ in firstRow..<lastRow {
                                dst[q] = 0
                                q += ow
                            }
                        }
                        continue
                    }
                    for oy in firstRow..<lastRow {
                        let src = plane + (oy * stride - padding + i) * width
                        let d = dst + oy * ow
                        // Plain loops: rows are short (7-32 values), where memcpy/memset calls cost more than the copy.
                        for ox in 0..<first { d[ox] = 0 }
                        var ix = first * stride - padding + j
                        for ox in first..<last {
                            d[ox] = src[ix]
                            ix += stride
                        }
                        for ox in last..<ow { d[ox] = 0 }
                    }
                }
            }
        }
    }

    /// dx += col2im(cols); `dx` must be zeroed by the caller for a plain adjoint. `cols` is scratch: the
    /// entries that fall outside the image are overwritten with zeros.
    func col2im(_ cols: UnsafeMutablePointer<Float>, _ dx: UnsafeMutablePointer<Float>, columnStride: Int? = nil) {
        let oh = outHeight, ow = outWidth, ld = columnStride ?? oh * ow
        var row = 0
        for c in 0..<channels {
            let plane = dx + c * height * width
            for i in 0..<kernelH {
                let (firstRow, lastRow) = valid(offset: i, extent: height, outputs: oh)
                for j in 0..<kernelW {
                    let src = cols + row * ld
                    row += 1
                    let (first, last) = valid(offset: j, extent: width, outputs: ow)
                    guard firstRow < lastRow, first < last else { continue }
                    if isContiguous {
                        // Zeroing the entries that would wrap around a row edge lets one block add cover
                        // every valid row; the wrapped targets get + 0, which changes no value.
                        for edge in 0..<(first + ow - last) {
                            var q = firstRow * ow + (edge < first ? edge : last + edge - first)
                            for _ in firstRow..<lastRow {
                                src[q] = 0
                                q += ow
                            }
                        }
                        let d = plane + ((i - padding) * width + j - padding)
                        for q in (firstRow * ow + first)..<((lastRow - 1) * ow + last) { d[q] += src[q] }
                        continue
                    }
                    for oy in firstRow..<lastRow {
                        let d = plane + (oy * stride - padding + i) * width
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
