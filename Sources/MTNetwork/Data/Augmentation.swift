import MTAlgorithms
import MTCore

/// Random label-preserving image transforms for training, chosen per kind of data:
/// - `natural`: random 32x32-style crop from the image reflect-padded by 4 pixels, and a horizontal flip
///   with probability 1/2 (the CIFAR recipe; flips suit natural images, not digits or text);
/// - `digits`: a random translation by up to 2 pixels each way, vacated pixels black (no flip: a mirrored
///   digit is another glyph);
/// - `none`: the image as it is.
public enum Augmentation: String, CaseIterable, Sendable {
    case none, digits, natural

    /// `digits` for one-channel images up to 32 pixels, else `natural`.
    public static func automatic(channels: Int, height: Int) -> Augmentation {
        channels == 1 && height <= 32 ? .digits : .natural
    }
}

/// Turns rows of an `ImageDataset` (uint8 NHWC) into a normalised float NCHW batch, augmenting when asked.
/// Sample i of a batch draws from its own RNG stream, so a batch is the same for any thread count.
///
/// With `randAugment` (the strong view of FixMatch and its successors) each augmented image first goes
/// through that policy, then through the flip/shift of `augmentation`, as FixMatch's strong transform.
public struct ImageBatcher {
    public let dataset: ImageDataset
    public let augmentation: Augmentation
    public let randAugment: RandAugment?
    /// pixel -> (pixel/255 - mean[c]) / std[c], per channel.
    private let table: [[Float]]

    public init(dataset: ImageDataset, mean: [Float], std: [Float], augmentation: Augmentation, randAugment: RandAugment? = nil) {
        precondition(mean.count == dataset.channels && std.count == dataset.channels)
        self.dataset = dataset
        self.augmentation = augmentation
        self.randAugment = randAugment
        table = (0..<dataset.channels).map { c in (0..<256).map { (Float($0) / 255 - mean[c]) / std[c] } }
    }

    /// Per-channel mean and standard deviation of pixel/255 over the whole data set.
    public static func channelStatistics(_ dataset: ImageDataset) -> (mean: [Float], std: [Float]) {
        let c = dataset.channels
        var sums = [Double](repeating: 0, count: c), squares = [Double](repeating: 0, count: c)
        dataset.images.withUnsafeBufferPointer { pixels in
            for i in 0..<pixels.count {
                let v = Double(pixels[i]) / 255
                sums[i % c] += v
                squares[i % c] += v * v
            }
        }
        let n = Double(dataset.count * dataset.height * dataset.width)
        let mean = sums.map { $0 / n }
        let std = zip(squares, mean).map { max(($0 / n - $1 * $1).squareRoot(), 1e-3) }
        return (mean.map(Float.init), std.map(Float.init))
    }

    /// The images at `indices` as [B, C, H, W]; augmented from streams (seed, stream + position) when
    /// `seed` is given, plain otherwise.
    public func batch(_ indices: [Int], seed: UInt64? = nil, stream: UInt64 = 0) -> Tensor {
        let (h, w, c) = (dataset.height, dataset.width, dataset.channels)
        var output = Tensor(zeros: [indices.count, c, h, w])
        let kind = seed == nil ? .none : augmentation
        dataset.images.withUnsafeBufferPointer { pixels in
            output.data.withUnsafeMutableBufferPointer { out in
                let src = pixels.baseAddress!, dst = out.baseAddress!
                Parallel.forEach(indices.count, minimumChunk: 16) { position in
                    var rng = SeededGenerator(seed: seed ?? 0, stream: stream &+ UInt64(position))
                    let original = src + indices[position] * h * w * c
                    let target = dst + position * c * h * w
                    guard seed != nil, let randAugment else {
                        return Self.place(original, into: target, kind: kind, rng: &rng, height: h, width: w, channels: c, table: table)
                    }
                    var pixels = ImagePixels(Array(UnsafeBufferPointer(start: original, count: h * w * c)), height: h, width: w, channels: c)
                    randAugment.apply(&pixels, rng: &rng)
                    pixels.values.withUnsafeBufferPointer { strong in
                        Self.place(strong.baseAddress!, into: target, kind: kind, rng: &rng, height: h, width: w, channels: c, table: table)
                    }
                }
            }
        }
        return output
    }

    /// One image: shift/flip of `kind` (drawn from `rng`), then normalised through `table` into CHW.
    private static func place(_ image: UnsafePointer<UInt8>, into target: UnsafeMutablePointer<Float>, kind: Augmentation,
                              rng: inout SeededGenerator, height h: Int, width w: Int, channels c: Int, table: [[Float]]) {
        // Output pixel (y, x) reads source pixel (map(y), map(x)); -1 means black.
        var shiftY = 0, shiftX = 0, flip = false
        switch kind {
        case .none: break
        case .digits:
            shiftY = Int(rng.next() % 5) - 2
            shiftX = Int(rng.next() % 5) - 2
        case .natural:
            shiftY = Int(rng.next() % 9) - 4
            shiftX = Int(rng.next() % 9) - 4
            flip = rng.next() & 1 == 1
        }
        func source(_ i: Int, _ shift: Int, _ size: Int) -> Int {
            let j = i + shift
            if j >= 0 && j < size { return j }
            guard kind == .natural else { return -1 }
            return j < 0 ? -j : 2 * size - 2 - j          // reflect padding
        }
        for y in 0..<h {
            let sy = source(y, shiftY, h)
            for x in 0..<w {
                let sx = source(flip ? w - 1 - x : x, shiftX, w)
                for ch in 0..<c {
                    let pixel = sy < 0 || sx < 0 ? 0 : image[(sy * w + sx) * c + ch]
                    target[(ch * h + y) * w + x] = table[ch][Int(pixel)]
                }
            }
        }
    }
}
