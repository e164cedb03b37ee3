import Testing
@testable import MTCore
@testable import MTNetwork

/// Each RandAugment operation on small images whose results are worked out by hand (PIL's arithmetic:
/// blends truncate, the SMOOTH kernel rounds, equalize uses ImageOps' lookup table).
@Suite("RandAugment operations")
struct RandAugmentTests {
    /// A 3x3 gray image, row by row.
    static func gray(_ values: [UInt8]) -> ImagePixels { ImagePixels(values, height: 3, width: 3, channels: 1) }

    func applied(_ operation: RandAugmentOperation, _ image: ImagePixels, _ value: Double = 0, fill: UInt8 = 0) -> [UInt8] {
        var copy = image
        operation.apply(&copy, value: value, fill: fill)
        return copy.values
    }

    static let ramp = gray([10, 20, 30, 40, 50, 60, 70, 80, 90])

    @Test func identityAndPosterizeAndSolarize() {
        #expect(applied(.identity, Self.ramp) == Self.ramp.values)
        // 4 bits: keep the top nibble. 90 = 0101_1010 -> 0101_0000 = 80.
        #expect(applied(.posterize, Self.ramp, 4) == [0, 16, 16, 32, 48, 48, 64, 80, 80])
        // Pixels >= 50 are inverted.
        #expect(applied(.solarize, Self.ramp, 50) == [10, 20, 30, 40, 205, 195, 185, 175, 165])
    }

    @Test func enhancementsBlendWithTheDegenerateImageAndTruncate() {
        // Brightness 0.55: v * 0.55 truncated (10 -> 5.5 -> 5, 90 -> 49.5 -> 49).
        #expect(applied(.brightness, Self.ramp, 0.55) == [5, 11, 16, 22, 27, 33, 38, 44, 49])
        // Contrast 0.5 around the mean gray level 50: 50 + 0.5 (v - 50), truncated.
        #expect(applied(.contrast, Self.ramp, 0.5) == [30, 35, 40, 45, 50, 55, 60, 65, 70])
        // Colour on a gray image changes nothing.
        #expect(applied(.color, Self.ramp, 0.1) == Self.ramp.values)
        // Sharpness 0.5: only the centre differs from its smoothed value (4*50 + 450) / 13 = 50, so it stays.
        #expect(applied(.sharpness, Self.ramp, 0.5) == Self.ramp.values)
        // A bright centre on black: smoothed centre (5 * 130) / 13 = 50; factor 0.5 -> 50 + 0.5 * 80 = 90.
        let spot = Self.gray([0, 0, 0, 0, 130, 0, 0, 0, 0])
        #expect(applied(.sharpness, spot, 0.5) == [0, 0, 0, 0, 90, 0, 0, 0, 0])
    }

    @Test func colourBlendsTowardsLuma() {
        // One red pixel: luma (255 * 19595 + 0x8000) >> 16 = 76; factor 0.25 -> 76 + 0.25 (v - 76).
        var red = ImagePixels([255, 0, 0], height: 1, width: 1, channels: 3)
        RandAugmentOperation.color.apply(&red, value: 0.25, fill: 0)
        #expect(red.values == [120, 57, 57])
    }

    @Test func autoContrastAndEqualize() {
        // [10, 90] stretched to [0, 255]: (v - 10) * 255 / 80, truncated.
        #expect(applied(.autoContrast, Self.ramp) == [0, 31, 63, 95, 127, 159, 191, 223, 255])
        // Nine distinct levels, one pixel each: step = (9 - 1) / 255 = 0, so equalize leaves the image alone (PIL).
        #expect(applied(.equalize, Self.ramp) == Self.ramp.values)
        // 300 pixels of 0 and 300 of 200: step = (600 - 300) / 255 = 1, lut[0] = 0, lut[200] = 300 -> clamped to 255.
        var two = ImagePixels([UInt8](repeating: 0, count: 300) + [UInt8](repeating: 200, count: 300), height: 20, width: 30, channels: 1)
        RandAugmentOperation.equalize.apply(&two, value: 0, fill: 0)
        #expect(two.values[0] == 0 && two.values[599] == 255)
    }

    @Test func geometryAboutTheCentre() {
        // Rotating by 90 degrees counter-clockwise: the top row becomes the left column, read upwards.
        #expect(applied(.rotate, Self.ramp, 90) == [30, 60, 90, 20, 50, 80, 10, 40, 70])
        // Translate x by +1/3 of the width: the picture moves left by one pixel; the vacated column is fill.
        #expect(applied(.translateX, Self.ramp, 1.0 / 3, fill: 7) == [20, 30, 7, 50, 60, 7, 80, 90, 7])
        #expect(applied(.translateY, Self.ramp, -1.0 / 3, fill: 7) == [7, 7, 7, 10, 20, 30, 40, 50, 60])
        // Shear x by 0.3 about the centre row: rows 0 and 2 read 0.3 pixel left/right, which rounds to 0.
        #expect(applied(.shearX, Self.ramp, 0.3) == Self.ramp.values)
        // Shear x by 1: row 0 (offset -1) reads x - 1, row 2 (offset +1) reads x + 1.
        #expect(applied(.shearX, Self.ramp, 1, fill: 7) == [7, 10, 20, 40, 50, 60, 80, 90, 7])
        // Shear y by 1: column 0 (offset -1) reads y - 1, column 2 (offset +1) reads y + 1.
        #expect(applied(.shearY, Self.ramp, 1, fill: 7) == [7, 20, 60, 10, 50, 90, 40, 80, 7])
    }

    @Test func cutoutFillsAClippedSquare() {
        var image = ImagePixels([UInt8](repeating: 9, count: 16), height: 4, width: 4, channels: 1)
        ImageOperations.cutout(&image, centreY: 0, centreX: 3, side: 2, fill: 0)
        // Rows -1...0, columns 2...3, clipped to row 0.
        #expect(image.values == [9, 9, 0, 0] + [UInt8](repeating: 9, count: 12))
    }

    @Test func policyIsSeededAndDigitsHaveNoColourOrSolarize() {
        #expect(!RandAugmentOperation.digits.contains(.color) && !RandAugmentOperation.digits.contains(.solarize))
        #expect(RandAugmentOperation.digits.count == RandAugmentOperation.allCases.count - 2)
        var rng = SeededGenerator(seed: 1)
        let image = ImagePixels((0..<(28 * 28)).map { _ in UInt8(rng.next() % 256) }, height: 28, width: 28, channels: 1)
        let policy = RandAugment.forAugmentation(.digits)
        func view(_ seed: UInt64) -> [UInt8] {
            var copy = image, generator = SeededGenerator(seed: seed)
            policy.apply(&copy, rng: &generator)
            return copy.values
        }
        #expect(view(5) == view(5))
        let views = (0..<8).map { view(UInt64($0)) }
        #expect(Set(views).count >= 7, "different seeds give different views")
    }

    @Test func strongBatchesAreThreadIndependent() {
        var rng = SeededGenerator(seed: 2)
        let data = ImageDataset(images: (0..<(20 * 28 * 28)).map { _ in UInt8(rng.next() % 256) }, count: 20, height: 28, width: 28,
                                channels: 1, labels: [Int32](repeating: 0, count: 20), classNames: ["x"], name: "t")
        let strong = ImageBatcher(dataset: data, mean: [0.5], std: [0.25], augmentation: .digits, randAugment: .forAugmentation(.digits))
        let weak = ImageBatcher(dataset: data, mean: [0.5], std: [0.25], augmentation: .digits)
        let one = Parallel.$threadCount.withValue(1) { strong.batch(Array(0..<20), seed: 3, stream: 7) }
        let two = Parallel.$threadCount.withValue(2) { strong.batch(Array(0..<20), seed: 3, stream: 7) }
        #expect(one.data == two.data)
        #expect(one.data != weak.batch(Array(0..<20), seed: 3, stream: 7).data)
    }
}
