import Foundation
import MTAlgorithms
import MTCore

/// The strong augmentation that unsupervised metric learning needs: the network must tell an image from
/// every other image while two very different views of it stay close, so the views must differ in
/// everything that is not identity (framing, colour, small deformations).
///
/// Per kind of data (`Augmentation.automatic` decides, as for classifier training):
/// - `natural` (the reference's CIFAR recipe): random resized crop, area fraction in [0.2, 1], aspect ratio
///   in [3/4, 4/3]; colour jitter with brightness, contrast, saturation factors in [0.6, 1.4] and a hue
///   shift of up to +-0.4 of the colour circle (a rotation of the YIQ chroma plane, a cheap stand-in for
///   torchvision's HSV hue shift); grayscale with probability 0.2; horizontal flip with probability 1/2.
/// - `digits`: no flip and no colour; a random resized crop with area fraction in [0.5, 1] and aspect
///   ratio in [3/4, 4/3] (a zoom that may cut off a stroke end), rotated by up to +-15 degrees, vacated
///   pixels black; plus brightness and contrast factors in [0.7, 1.3] (stroke intensity varies).
/// - `none`: the plain image.
/// Geometry is one affine map from output to source pixel centres with bilinear interpolation. Sample i
/// of a batch draws from RNG stream (seed, stream + i), so batches do not depend on the thread count.
public struct MetricAugmenter {
    public let dataset: ImageDataset
    public let kind: Augmentation
    public let mean: [Float]
    public let std: [Float]

    public init(dataset: ImageDataset, mean: [Float], std: [Float], kind: Augmentation) {
        precondition(mean.count == dataset.channels && std.count == dataset.channels)
        self.dataset = dataset
        self.kind = kind
        self.mean = mean
        self.std = std
    }

    /// Images `indices` as a normalised [B, C, H, W] batch, each augmented independently.
    public func batch(_ indices: [Int], seed: UInt64, stream: UInt64) -> Tensor {
        let (h, w, c) = (dataset.height, dataset.width, dataset.channels)
        var output = Tensor(zeros: [indices.count, c, h, w])
        dataset.images.withUnsafeBufferPointer { pixels in
            output.data.withUnsafeMutableBufferPointer { out in
                let src = pixels.baseAddress!, dst = out.baseAddress!
                Parallel.forEach(indices.count, minimumChunk: 8) { position in
                    var rng = SeededGenerator(seed: seed, stream: stream &+ UInt64(position))
                    augment(src + indices[position] * h * w * c, into: dst + position * c * h * w, rng: &rng)
                }
            }
        }
        return output
    }

    /// One image, uint8 HWC -> normalised float CHW.
    private func augment(_ image: UnsafePointer<UInt8>, into target: UnsafeMutablePointer<Float>, rng: inout SeededGenerator) {
        let (h, w, c) = (dataset.height, dataset.width, dataset.channels)
        let plane = h * w
        // Output (y, x) reads source (sy, sx) = centre + A (y - cy, x - cx) in pixel-centre coordinates.
        var a = (1.0, 0.0, 0.0, 1.0), centre = (Double(h - 1) / 2, Double(w - 1) / 2)
        switch kind {
        case .none:
            break
        case .digits, .natural:
            let natural = kind == .natural
            let area = natural ? uniform(&rng, 0.2, 1) : uniform(&rng, 0.5, 1)
            let ratio = exp(uniform(&rng, log(3.0 / 4), log(4.0 / 3)))
            let boxW = min(1, (area * ratio).squareRoot()) * Double(w), boxH = min(1, (area / ratio).squareRoot()) * Double(h)
            centre = (uniform(&rng, boxH / 2, Double(h) - boxH / 2) - 0.5, uniform(&rng, boxW / 2, Double(w) - boxW / 2) - 0.5)
            let sy = boxH / Double(h), sx = boxW / Double(w) * (natural && rng.next() & 1 == 1 ? -1 : 1)
            let angle = natural ? 0 : uniform(&rng, -15, 15) * Double.pi / 180
            a = (cos(angle) * sy, -sin(angle) * sx, sin(angle) * sy, cos(angle) * sx)
        }
        let cy = Double(h - 1) / 2, cx = Double(w - 1) / 2
        for y in 0..<h {
            for x in 0..<w {
                let dy = Double(y) - cy, dx = Double(x) - cx
                let fy = centre.0 + a.0 * dy + a.1 * dx, fx = centre.1 + a.2 * dy + a.3 * dx
                let y0 = Int(fy.rounded(.down)), x0 = Int(fx.rounded(.down))
                let ty = Float(fy - Double(y0)), tx = Float(fx - Double(x0))
                for ch in 0..<c {
                    func pixel(_ py: Int, _ px: Int) -> Float {
                        guard py >= 0, py < h, px >= 0, px < w else {
                            // Natural crops stay inside the image up to rounding: clamp; digits: black.
                            guard kind == .natural else { return 0 }
                            return Float(image[(min(max(py, 0), h - 1) * w + min(max(px, 0), w - 1)) * c + ch])
                        }
                        return Float(image[(py * w + px) * c + ch])
                    }
                    let top = pixel(y0, x0) * (1 - tx) + pixel(y0, x0 + 1) * tx
                    let bottom = pixel(y0 + 1, x0) * (1 - tx) + pixel(y0 + 1, x0 + 1) * tx
                    target[ch * plane + y * w + x] = (top * (1 - ty) + bottom * ty) / 255
                }
            }
        }
        switch kind {
        case .none: break
        case .digits: jitter(target, brightness: 0.3, contrast: 0.3, saturation: 0, hue: 0, grayscale: 0, rng: &rng)
        case .natural: jitter(target, brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.4, grayscale: 0.2, rng: &rng)
        }
        for ch in 0..<c {
            let p = target + ch * plane, m = mean[ch], s = 1 / std[ch]
            for i in 0..<plane { p[i] = (p[i] - m) * s }
        }
    }

    /// Colour jitter on a [C, H, W] image in [0, 1]: brightness, contrast (around the mean gray level),
    /// saturation (towards gray), hue (YIQ chroma rotation), then grayscale with probability `grayscale`.
    private func jitter(_ image: UnsafeMutablePointer<Float>, brightness: Double, contrast: Double, saturation: Double,
                        hue: Double, grayscale: Double, rng: inout SeededGenerator) {
        let c = dataset.channels, plane = dataset.height * dataset.width, count = c * plane
        func clamp(_ i: Int, _ v: Float) { image[i] = min(max(v, 0), 1) }
        func gray(_ i: Int) -> Float {
            c == 3 ? 0.299 * image[i] + 0.587 * image[plane + i] + 0.114 * image[2 * plane + i] : image[i]
        }
        let b = Float(uniform(&rng, 1 - brightness, 1 + brightness))
        for i in 0..<count { clamp(i, image[i] * b) }
        let k = Float(uniform(&rng, 1 - contrast, 1 + contrast))
        var level: Float = 0
        for i in 0..<plane { level += gray(i) }
        level /= Float(plane)
        for i in 0..<count { clamp(i, (image[i] - level) * k + level) }
        guard c == 3 else { return }
        let s = Float(uniform(&rng, 1 - saturation, 1 + saturation))
        let theta = Float(uniform(&rng, -hue, hue) * 2 * Double.pi)
        let (cosT, sinT) = (cos(theta), sin(theta))
        for i in 0..<plane {
            let (r, g, bl) = (image[i], image[plane + i], image[2 * plane + i])
            let luma = 0.299 * r + 0.587 * g + 0.114 * bl
            var ci = (0.596 * r - 0.274 * g - 0.322 * bl) * s, cq = (0.211 * r - 0.523 * g + 0.312 * bl) * s
            (ci, cq) = (ci * cosT - cq * sinT, ci * sinT + cq * cosT)
            clamp(i, luma + 0.956 * ci + 0.621 * cq)
            clamp(plane + i, luma - 0.272 * ci - 0.647 * cq)
            clamp(2 * plane + i, luma - 1.106 * ci + 1.703 * cq)
        }
        if Double(rng.nextUniform()) < grayscale {
            for i in 0..<plane {
                let v = gray(i)
                image[i] = v
                image[plane + i] = v
                image[2 * plane + i] = v
            }
        }
    }

    private func uniform(_ rng: inout SeededGenerator, _ low: Double, _ high: Double) -> Double {
        low + (high - low) * Double(rng.nextUniform())
    }
}
