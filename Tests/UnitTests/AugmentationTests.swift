import Testing
@testable import MTCore
@testable import MTStorage
@testable import MTAlgorithms
@testable import MTNetwork
@testable import MTCommand

@Suite("Augmentation")
struct AugmentationTests {
    static func dataset(channels: Int) -> ImageDataset {
        var rng = SeededGenerator(seed: 1)
        let count = 40, size = 6
        return ImageDataset(images: (0..<(count * size * size * channels)).map { _ in UInt8(rng.next() % 256) }, count: count,
                            height: size, width: size, channels: channels, labels: [Int32](repeating: 0, count: count),
                            classNames: ["x"], name: "t")
    }

    @Test func plainBatchIsNormalisedNCHW() {
        let data = Self.dataset(channels: 3)
        let batch = ImageBatcher(dataset: data, mean: [0.5, 0.4, 0.3], std: [0.2, 0.25, 0.5], augmentation: .natural).batch([2])
        // Pixel (y=1, x=4, c=2) of image 2, channels-last on disk, channels-first in the tensor.
        let pixel = Float(data.images[((2 * 6 + 1) * 6 + 4) * 3 + 2])
        #expect(abs(batch.data[(2 * 6 + 1) * 6 + 4] - (pixel / 255 - 0.3) / 0.5) < 1e-6)
    }

    @Test func augmentationIsSeededAndThreadIndependent() {
        for kind in [Augmentation.digits, .natural] {
            let batcher = ImageBatcher(dataset: Self.dataset(channels: 1), mean: [0.5], std: [0.25], augmentation: kind)
            let one = Parallel.$threadCount.withValue(1) { batcher.batch(Array(0..<40), seed: 9, stream: 3) }
            let four = Parallel.$threadCount.withValue(4) { batcher.batch(Array(0..<40), seed: 9, stream: 3) }
            #expect(one.data == four.data)
            #expect(one.data != batcher.batch(Array(0..<40)).data)
            #expect(one.data != batcher.batch(Array(0..<40), seed: 10, stream: 3).data)
        }
    }

    @Test func digitShiftsMoveThePictureWithoutFlipping() {
        // One bright pixel: after a digits shift it appears once, at most 2 pixels away; the rest is black.
        var images = [UInt8](repeating: 0, count: 36)
        images[2 * 6 + 3] = 255
        let data = ImageDataset(images: images, count: 1, height: 6, width: 6, channels: 1, labels: [0], classNames: ["x"], name: "d")
        let batcher = ImageBatcher(dataset: data, mean: [0], std: [1], augmentation: .digits)
        for stream in 0..<20 {
            let out = batcher.batch([0], seed: 1, stream: UInt64(stream)).data
            let lit = out.indices.filter { out[$0] > 0.5 }
            #expect(lit.count <= 1)
            if let at = lit.first { #expect(abs(at / 6 - 2) <= 2 && abs(at % 6 - 3) <= 2) }
        }
    }
}
