import Foundation
import MTCore

/// One 8-bit image being transformed, height x width x channels (the data set's HWC layout).
public struct ImagePixels: Equatable, Sendable {
    public var values: [UInt8]
    public let height: Int
    public let width: Int
    public let channels: Int

    public init(_ values: [UInt8], height: Int, width: Int, channels: Int) {
        precondition(values.count == height * width * channels)
        self.values = values
        self.height = height
        self.width = width
        self.channels = channels
    }

    public subscript(y: Int, x: Int, c: Int) -> UInt8 {
        get { values[(y * width + x) * channels + c] }
        set { values[(y * width + x) * channels + c] = newValue }
    }
}

/// The image operations of RandAugment as FixMatch uses them (Sohn et al. 2020, Table 12), on 8-bit
/// images with PIL's semantics where PIL defines them: enhancements blend with a degenerate image,
/// `degenerate + f * (image - degenerate)`, truncated to 0...255 (`ImageEnhance`); equalize and
/// autocontrast as `ImageOps`. Geometry maps each output pixel centre to the nearest source pixel about
/// the image centre; pixels from outside the image take `fill`.
///
/// Values (FixMatch's ranges): brightness, color, contrast, sharpness factor in [0.05, 0.95] (0: the
/// degenerate image, 1: the original); posterize bits in [4, 8]; rotate degrees in [-30, 30]
/// (counter-clockwise); shear in [-0.3, 0.3]; solarize threshold in [0, 256]; translate in [-0.3, 0.3] of
/// the image size.
public enum RandAugmentOperation: String, CaseIterable, Sendable {
    case identity, autoContrast, brightness, color, contrast, equalize, posterize, rotate, sharpness
    case shearX, shearY, solarize, translateX, translateY

    /// The range values are drawn from.
    public var range: ClosedRange<Double> {
        switch self {
        case .identity, .autoContrast, .equalize: 0...0
        case .brightness, .color, .contrast, .sharpness: 0.05...0.95
        case .posterize: 4...8
        case .rotate: -30...30
        case .shearX, .shearY, .translateX, .translateY: -0.3...0.3
        case .solarize: 0...256
        }
    }

    /// Digits and other gray glyph images: no colour (a no-op on one channel) and no solarize (it turns a
    /// white stroke black, another glyph).
    public static let digits: [RandAugmentOperation] = allCases.filter { $0 != .color && $0 != .solarize }

    public func apply(_ image: inout ImagePixels, value: Double, fill: UInt8) {
        switch self {
        case .identity: break
        case .autoContrast: ImageOperations.autoContrast(&image)
        case .brightness: ImageOperations.blend(&image, with: ImagePixels(Array(repeating: 0, count: image.values.count),
                                                                          height: image.height, width: image.width, channels: image.channels), factor: value)
        case .color: ImageOperations.blend(&image, with: ImageOperations.grayscale(image), factor: value)
        case .contrast:
            let gray = ImageOperations.grayscale(image)
            let sum = gray.values.enumerated().reduce(0) { $0 + ($1.offset % image.channels == 0 ? Int($1.element) : 0) }
            let mean = UInt8(Int(Double(sum) / Double(image.height * image.width) + 0.5))
            ImageOperations.blend(&image, with: ImagePixels(Array(repeating: mean, count: image.values.count),
                                                            height: image.height, width: image.width, channels: image.channels), factor: value)
        case .equalize: ImageOperations.equalize(&image)
        case .posterize:
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - Int(value.rounded(.down))))
            for i in image.values.indices { image.values[i] &= mask }
        case .rotate:
            let angle = value * Double.pi / 180
            // Output (y, x) reads the source rotated back: a counter-clockwise turn of the picture.
            ImageOperations.affine(&image, fill: fill) { y, x in (cos(angle) * y + sin(angle) * x, cos(angle) * x - sin(angle) * y) }
        case .sharpness: ImageOperations.blend(&image, with: ImageOperations.smoothed(image), factor: value)
        case .shearX: ImageOperations.affine(&image, fill: fill) { y, x in (y, x + value * y) }
        case .shearY: ImageOperations.affine(&image, fill: fill) { y, x in (y + value * x, x) }
        case .solarize:
            for i in image.values.indices where Double(image.values[i]) >= value { image.values[i] = 255 - image.values[i] }
        case .translateX:
            let shift = value * Double(image.width)
            ImageOperations.affine(&image, fill: fill) { y, x in (y, x + shift) }
        case .translateY:
            let shift = value * Double(image.height)
            ImageOperations.affine(&image, fill: fill) { y, x in (y + shift, x) }
        }
    }
}

/// The pixel arithmetic behind `RandAugmentOperation`, exposed for tests.
public enum ImageOperations {
    /// `degenerate + factor * (image - degenerate)`, truncated into 0...255 (PIL's `Image.blend`).
    public static func blend(_ image: inout ImagePixels, with degenerate: ImagePixels, factor: Double) {
        for i in image.values.indices {
            let d = Double(degenerate.values[i])
            let v = d + factor * (Double(image.values[i]) - d)
            image.values[i] = v <= 0 ? 0 : v >= 255 ? 255 : UInt8(v)
        }
    }

    /// The luma image (ITU-R 601-2, PIL's `convert("L")` rounding) in every channel; the image itself when gray.
    public static func grayscale(_ image: ImagePixels) -> ImagePixels {
        guard image.channels == 3 else { return image }
        var gray = image
        for p in 0..<(image.height * image.width) {
            let (r, g, b) = (Int(image.values[3 * p]), Int(image.values[3 * p + 1]), Int(image.values[3 * p + 2]))
            let l = UInt8((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16)
            gray.values[3 * p] = l
            gray.values[3 * p + 1] = l
            gray.values[3 * p + 2] = l
        }
        return gray
    }

    /// PIL's SMOOTH filter, kernel [[1,1,1],[1,5,1],[1,1,1]] / 13 rounded, on interior pixels; the border
    /// stays (what `ImageEnhance.Sharpness` blends against).
    public static func smoothed(_ image: ImagePixels) -> ImagePixels {
        var out = image
        guard image.height >= 3, image.width >= 3 else { return out }
        for y in 1..<(image.height - 1) {
            for x in 1..<(image.width - 1) {
                for c in 0..<image.channels {
                    var sum = 4 * Int(image[y, x, c])
                    for dy in -1...1 { for dx in -1...1 { sum += Int(image[y + dy, x + dx, c]) } }
                    out[y, x, c] = UInt8((Double(sum) / 13).rounded())
                }
            }
        }
        return out
    }

    /// Each channel stretched so its darkest pixel is 0 and its brightest 255 (`ImageOps.autocontrast`).
    public static func autoContrast(_ image: inout ImagePixels) {
        for c in 0..<image.channels {
            var low = 255, high = 0
            for p in stride(from: c, to: image.values.count, by: image.channels) {
                low = min(low, Int(image.values[p]))
                high = max(high, Int(image.values[p]))
            }
            guard high > low else { continue }
            let scale = 255 / Double(high - low), offset = -Double(low) * scale
            for p in stride(from: c, to: image.values.count, by: image.channels) {
                image.values[p] = UInt8(max(0, min(255, Int(Double(image.values[p]) * scale + offset))))
            }
        }
    }

    /// Histogram equalisation per channel, PIL's `ImageOps.equalize` lookup table.
    public static func equalize(_ image: inout ImagePixels) {
        for c in 0..<image.channels {
            var histogram = [Int](repeating: 0, count: 256)
            for p in stride(from: c, to: image.values.count, by: image.channels) { histogram[Int(image.values[p])] += 1 }
            let used = histogram.filter { $0 > 0 }
            guard let last = used.last else { continue }
            let step = (used.reduce(0, +) - last) / 255
            guard step > 0 else { continue }
            var table = [UInt8](repeating: 0, count: 256)
            var n = step / 2
            for i in 0..<256 {
                table[i] = UInt8(min(255, n / step))
                n += histogram[i]
            }
            for p in stride(from: c, to: image.values.count, by: image.channels) { image.values[p] = table[Int(image.values[p])] }
        }
    }

    /// Output pixel (y, x) takes the source pixel nearest to `source(y - cy, x - cx) + (cy, cx)`, offsets
    /// from the image centre; outside the image, `fill`.
    public static func affine(_ image: inout ImagePixels, fill: UInt8, source: (Double, Double) -> (Double, Double)) {
        let original = image
        let cy = Double(image.height - 1) / 2, cx = Double(image.width - 1) / 2
        for y in 0..<image.height {
            for x in 0..<image.width {
                let (sy, sx) = source(Double(y) - cy, Double(x) - cx)
                let iy = Int((sy + cy).rounded()), ix = Int((sx + cx).rounded())
                let inside = iy >= 0 && iy < image.height && ix >= 0 && ix < image.width
                for c in 0..<image.channels { image[y, x, c] = inside ? original[iy, ix, c] : fill }
            }
        }
    }

    /// A square of side `side` centred at (cy, cx), clipped to the image, set to `fill` (Cutout, DeVries &
    /// Taylor 2017).
    public static func cutout(_ image: inout ImagePixels, centreY cy: Int, centreX cx: Int, side: Int, fill: UInt8) {
        let y0 = max(0, cy - side / 2), y1 = min(image.height, cy - side / 2 + side)
        let x0 = max(0, cx - side / 2), x1 = min(image.width, cx - side / 2 + side)
        guard y1 > y0, x1 > x0 else { return }
        for y in y0..<y1 { for x in x0..<x1 { for c in 0..<image.channels { image[y, x, c] = fill } } }
    }
}

/// FixMatch's strong augmentation policy: `count` operations drawn with replacement from `operations`,
/// each applied with probability 1/2 at a value drawn uniformly from its range, then Cutout with a side of
/// up to `cutout` of the image (drawn uniformly). Deterministic for a given RNG state.
public struct RandAugment: Sendable {
    public var operations: [RandAugmentOperation]
    public var count: Int
    public var cutout: Double
    /// The colour of pixels from outside the image and of the Cutout square: black for digits (the
    /// background), mid-gray for natural images (FixMatch's 127).
    public var fill: UInt8

    public init(operations: [RandAugmentOperation], count: Int = 2, cutout: Double = 0.5, fill: UInt8) {
        self.operations = operations
        self.count = count
        self.cutout = cutout
        self.fill = fill
    }

    /// The policy for a kind of data: the digit subset on black, or every operation on gray.
    public static func forAugmentation(_ kind: Augmentation) -> RandAugment {
        kind == .digits ? RandAugment(operations: RandAugmentOperation.digits, fill: 0)
                        : RandAugment(operations: RandAugmentOperation.allCases, fill: 127)
    }

    public func apply(_ image: inout ImagePixels, rng: inout SeededGenerator) {
        for _ in 0..<count {
            let operation = operations[Int(rng.next() % UInt64(operations.count))]
            let applies = rng.next() & 1 == 1
            let range = operation.range
            let value = range.lowerBound + (range.upperBound - range.lowerBound) * Double(rng.nextUniform())
            if applies { operation.apply(&image, value: value, fill: fill) }
        }
        let side = Int(cutout * Double(rng.nextUniform()) * Double(min(image.height, image.width)))
        let cy = Int(rng.next() % UInt64(image.height)), cx = Int(rng.next() % UInt64(image.width))
        ImageOperations.cutout(&image, centreY: cy, centreX: cx, side: side, fill: fill)
    }
}
