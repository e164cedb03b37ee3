/// Resizing, cropping and re-orienting 8-bit images (row-major, interleaved channels).
///
/// `resize` is Pillow's antialiased bilinear resampling (`Image.resize(size, Image.BILINEAR)`, which
/// torchvision's `Resize` calls on PIL images), reproduced to the bit: a triangle filter whose support
/// grows with the reduction factor, so downscaling averages every source pixel instead of sampling a few;
/// weights in 22-bit fixed point; the horizontal pass first, rounded to 8 bits, then the vertical pass.
/// Matching Pillow matters because pretrained weights were trained on images resized that way.
public enum ImageResampling {
    /// Output size of torchvision's `Resize(side)`: the shorter side becomes `side`, the longer one
    /// `Int(side * longer / shorter)` (truncated, as torchvision does).
    public static func shorterSideSize(width: Int, height: Int, side: Int) -> (width: Int, height: Int) {
        precondition(width > 0 && height > 0 && side > 0)
        if width <= height { return (side, max(1, side * height / width)) }
        return (max(1, side * width / height), side)
    }

    /// Top-left corner of torchvision's `CenterCrop`: `round((size - crop) / 2)` with Python's rounding
    /// (half to even), so odd margins put the extra pixel where torchvision puts it.
    public static func centreCropOrigin(size: Int, crop: Int) -> Int {
        precondition(size >= crop)
        let margin = size - crop
        let half = margin / 2
        return margin % 2 == 0 || half % 2 == 0 ? half : half + 1
    }

    /// Pillow-exact bilinear resize of `pixels` (`width` x `height` x `channels`) to `toWidth` x `toHeight`.
    public static func resize(_ pixels: [UInt8], width: Int, height: Int, channels: Int,
                              toWidth: Int, toHeight: Int) -> [UInt8] {
        resize(pixels, width: width, height: height, channels: channels, toWidth: toWidth, toHeight: toHeight,
               columns: 0..<toWidth, rows: 0..<toHeight)
    }

    /// The `columns` x `rows` window of that resize, computed alone (`crop(resize(...))` without the
    /// pixels the crop drops: every output pixel depends only on its own filter window, so the values are
    /// the same to the bit).
    public static func resize(_ pixels: [UInt8], width: Int, height: Int, channels: Int,
                              toWidth: Int, toHeight: Int, columns: Range<Int>, rows: Range<Int>) -> [UInt8] {
        precondition(pixels.count == width * height * channels && toWidth > 0 && toHeight > 0)
        precondition(columns.lowerBound >= 0 && columns.upperBound <= toWidth && rows.lowerBound >= 0 && rows.upperBound <= toHeight)
        let horizontalPass = toWidth != width ? coefficients(inSize: width, outSize: toWidth).slice(columns) : nil
        let verticalPass = toHeight != height ? coefficients(inSize: height, outSize: toHeight).slice(rows) : nil
        // Only the source rows the vertical pass reads are resampled horizontally (as Pillow does).
        let sourceRows = verticalPass.map { $0.firstRow..<$0.lastRow } ?? rows
        var current: [UInt8]
        let currentWidth: Int
        if let horizontalPass {
            current = horizontal(pixels, width: width, rows: sourceRows, channels: channels, coefficients: horizontalPass)
            currentWidth = columns.count
        } else if columns.count == width && sourceRows == 0..<height {
            current = pixels
            currentWidth = width
        } else {
            current = crop(pixels, width: width, channels: channels, left: columns.lowerBound, top: sourceRows.lowerBound,
                           cropWidth: columns.count, cropHeight: sourceRows.count)
            currentWidth = columns.count
        }
        if let verticalPass {
            current = vertical(current, width: currentWidth, channels: channels, coefficients: verticalPass,
                               rowOffset: sourceRows.lowerBound)
        }
        return current
    }

    /// The `cropWidth` x `cropHeight` window at (`left`, `top`).
    public static func crop(_ pixels: [UInt8], width: Int, channels: Int, left: Int, top: Int,
                            cropWidth: Int, cropHeight: Int) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: cropWidth * cropHeight * channels)
        let rowBytes = cropWidth * channels
        pixels.withUnsafeBufferPointer { source in
            result.withUnsafeMutableBufferPointer { target in
                for y in 0..<cropHeight {
                    let from = ((top + y) * width + left) * channels
                    (target.baseAddress! + y * rowBytes).update(from: source.baseAddress! + from, count: rowBytes)
                }
            }
        }
        return result
    }

    /// Applies an EXIF orientation (1-8, TIFF tag 0x0112) so the pixels are upright, as
    /// `PIL.ImageOps.exif_transpose` does. Orientations 5-8 swap width and height.
    public static func orient(_ pixels: [UInt8], width: Int, height: Int, channels: Int,
                              orientation: Int) -> (pixels: [UInt8], width: Int, height: Int) {
        guard (2...8).contains(orientation) else { return (pixels, width, height) }
        let swaps = orientation >= 5
        let outWidth = swaps ? height : width, outHeight = swaps ? width : height
        var result = [UInt8](repeating: 0, count: pixels.count)
        for y in 0..<outHeight {
            for x in 0..<outWidth {
                let (sx, sy): (Int, Int)
                switch orientation {
                case 2: (sx, sy) = (width - 1 - x, y)                 // mirrored
                case 3: (sx, sy) = (width - 1 - x, height - 1 - y)    // rotated 180
                case 4: (sx, sy) = (x, height - 1 - y)                // flipped vertically
                case 5: (sx, sy) = (y, x)                             // transposed
                case 6: (sx, sy) = (y, height - 1 - x)                // stored 90 counter-clockwise: turn clockwise
                case 7: (sx, sy) = (width - 1 - y, height - 1 - x)    // transversed
                default: (sx, sy) = (width - 1 - y, x)                // 8: stored 90 clockwise
                }
                let target = (y * outWidth + x) * channels, source = (sy * width + sx) * channels
                for c in 0..<channels { result[target + c] = pixels[source + c] }
            }
        }
        return (result, outWidth, outHeight)
    }

    // MARK: Pillow's two passes

    /// 22 bits of fraction leave room for 255 x the weights' sum in 32 bits (Pillow's PRECISION_BITS).
    static let precisionBits = 22

    /// Per output pixel: the first source pixel and the fixed-point weights of its window.
    struct Coefficients {
        var starts: [Int]
        var counts: [Int]
        var weights: [Int]   // outSize x kernelSize
        var kernelSize: Int
        var firstRow: Int { starts.first ?? 0 }
        var lastRow: Int { (starts.last ?? 0) + (counts.last ?? 0) }

        /// The coefficients of the outputs in `range` only.
        func slice(_ range: Range<Int>) -> Coefficients {
            Coefficients(starts: Array(starts[range]), counts: Array(counts[range]),
                         weights: Array(weights[(range.lowerBound * kernelSize)..<(range.upperBound * kernelSize)]),
                         kernelSize: kernelSize)
        }
    }

    static func coefficients(inSize: Int, outSize: Int) -> Coefficients {
        let scale = Double(inSize) / Double(outSize)
        let filterScale = max(scale, 1)
        let support = filterScale   // the triangle's support is 1, stretched by the reduction
        let kernelSize = Int(support.rounded(.up)) * 2 + 1
        var starts = [Int](repeating: 0, count: outSize), counts = starts
        var weights = [Int](repeating: 0, count: outSize * kernelSize)
        var window = [Double](repeating: 0, count: kernelSize)
        let inverseScale = 1 / filterScale   // multiplied, not divided, as Pillow does (same last bit)
        for output in 0..<outSize {
            let centre = (Double(output) + 0.5) * scale
            let start = max(0, Int(centre - support + 0.5))
            let count = min(inSize, Int(centre + support + 0.5)) - start
            var total = 0.0
            for k in 0..<count {
                let distance = abs((Double(k + start) - centre + 0.5) * inverseScale)
                window[k] = distance < 1 ? 1 - distance : 0
                total += window[k]
            }
            for k in 0..<count {
                let weight = total != 0 ? window[k] / total : window[k]
                let fixed = weight * Double(1 << precisionBits)
                weights[output * kernelSize + k] = Int(fixed < 0 ? fixed - 0.5 : fixed + 0.5)
            }
            starts[output] = start
            counts[output] = count
        }
        return Coefficients(starts: starts, counts: counts, weights: weights, kernelSize: kernelSize)
    }

    @inline(__always) static func clip8(_ sum: Int32) -> UInt8 {
        UInt8(clamping: sum >> Int32(precisionBits))
    }

    // Sums stay in Int32 as in Pillow: the weights are non-negative and sum to 2^22, so 255 x 2^22 fits.
    static func horizontal(_ pixels: [UInt8], width: Int, rows: Range<Int>, channels: Int,
                           coefficients c: Coefficients) -> [UInt8] {
        let outWidth = c.starts.count
        var result = [UInt8](repeating: 0, count: rows.count * outWidth * channels)
        let half = Int32(1 << (precisionBits - 1))
        let weights = c.weights.map { Int32($0) }
        pixels.withUnsafeBufferPointer { source in
            result.withUnsafeMutableBufferPointer { target in
                weights.withUnsafeBufferPointer { weights in
                    c.starts.withUnsafeBufferPointer { starts in
                        c.counts.withUnsafeBufferPointer { counts in
                            for (row, y) in rows.enumerated() {
                                let inRow = source.baseAddress! + y * width * channels
                                let outRow = target.baseAddress! + row * outWidth * channels
                                for x in 0..<outWidth {
                                    let window = inRow + starts[x] * channels, w = weights.baseAddress! + x * c.kernelSize
                                    let n = counts[x]
                                    if channels == 3 {
                                        var r = half, g = half, b = half
                                        for k in 0..<n {
                                            let weight = w[k], p = window + 3 * k
                                            r &+= Int32(p[0]) &* weight
                                            g &+= Int32(p[1]) &* weight
                                            b &+= Int32(p[2]) &* weight
                                        }
                                        outRow[3 * x] = clip8(r)
                                        outRow[3 * x + 1] = clip8(g)
                                        outRow[3 * x + 2] = clip8(b)
                                    } else {
                                        for channel in 0..<channels {
                                            var sum = half
                                            for k in 0..<n { sum &+= Int32(window[k * channels + channel]) &* w[k] }
                                            outRow[x * channels + channel] = clip8(sum)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return result
    }

    /// Row by row: each output row accumulates whole source rows, a loop the compiler vectorises.
    static func vertical(_ pixels: [UInt8], width: Int, channels: Int, coefficients c: Coefficients,
                         rowOffset: Int) -> [UInt8] {
        let outHeight = c.starts.count, rowValues = width * channels
        var result = [UInt8](repeating: 0, count: outHeight * rowValues)
        let half = Int32(1 << (precisionBits - 1))
        var sums = [Int32](repeating: 0, count: rowValues)
        pixels.withUnsafeBufferPointer { source in
            result.withUnsafeMutableBufferPointer { target in
                sums.withUnsafeMutableBufferPointer { sums in
                    for y in 0..<outHeight {
                        let start = c.starts[y] - rowOffset
                        for v in 0..<rowValues { sums[v] = half }
                        for k in 0..<c.counts[y] {
                            let weight = Int32(c.weights[y * c.kernelSize + k])
                            let row = source.baseAddress! + (start + k) * rowValues
                            for v in 0..<rowValues { sums[v] &+= Int32(row[v]) &* weight }
                        }
                        let out = target.baseAddress! + y * rowValues
                        for v in 0..<rowValues { out[v] = clip8(sums[v]) }
                    }
                }
            }
        }
        return result
    }
}
