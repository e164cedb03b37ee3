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
        // A bright pixel with a dimmer right neighbour, away from the border: any shift of up to 2 pixels
        // keeps both inside the image, so each view shows both, the dim one still to the right of the
        // bright one (a flip would put it on the left), the rest black.
        var images = [UInt8](repeating: 0, count: 64)
        images[3 * 8 + 3] = 255
        images[3 * 8 + 4] = 128
        let data = ImageDataset(images: images, count: 1, height: 8, width: 8, channels: 1, labels: [0], classNames: ["x"], name: "d")
        let batcher = ImageBatcher(dataset: data, mean: [0], std: [1], augmentation: .digits)
        var offsets: Set<[Int]> = []
        for stream in 0..<20 {
            let out = batcher.batch([0], seed: 1, stream: UInt64(stream)).data
            let bright = out.indices.filter { abs(out[$0] - 1) < 1e-6 }
            let dim = out.indices.filter { abs(out[$0] - 128 / 255) < 1e-6 }
            #expect(bright.count == 1 && dim.count == 1 && out.filter { $0 != 0 }.count == 2, "stream \(stream)")
            guard let at = bright.first, let next = dim.first else { continue }
            #expect(next == at + 1, "stream \(stream): the neighbour moved to \(next), expected \(at + 1) (no flip)")
            let dy = at / 8 - 3, dx = at % 8 - 3
            #expect(abs(dy) <= 2 && abs(dx) <= 2, "stream \(stream): shifted by (\(dy), \(dx))")
            offsets.insert([dy, dx])
        }
        // The shift is random: 20 views land on several of the 25 offsets, not one.
        #expect(offsets.count >= 5, "offsets seen: \(offsets)")
    }
}

/// The test-time views of `mt-train predict`, by hand on a 3 x 3 image: the mirror image, and the 2-pixel
/// shifts with the vacated border set to the normalised black.
@Suite struct TestTimeAugmentationTests {
    @Test func viewsAreTheMirrorAndTheShifts() {
        let image = Tensor(shape: [1, 1, 3, 3], data: [1, 2, 3, 4, 5, 6, 7, 8, 9])
        #expect(TestTimeAugmentation.flip.view(1, of: image, black: [-1]).data == [3, 2, 1, 6, 5, 4, 9, 8, 7])
        #expect(TestTimeAugmentation.flip.view(0, of: image, black: [-1]).data == image.data)
        // View 1 moves the content up by 2 rows, view 4 right by 2 columns.
        #expect(TestTimeAugmentation.shift.view(1, of: image, black: [-1]).data == [7, 8, 9, -1, -1, -1, -1, -1, -1])
        #expect(TestTimeAugmentation.shift.view(2, of: image, black: [-1]).data == [-1, -1, -1, -1, -1, -1, 1, 2, 3])
        #expect(TestTimeAugmentation.shift.view(3, of: image, black: [-1]).data == [3, -1, -1, 6, -1, -1, 9, -1, -1])
        #expect(TestTimeAugmentation.shift.view(4, of: image, black: [-1]).data == [-1, -1, 1, -1, -1, 4, -1, -1, 7])
        #expect(TestTimeAugmentation.shift.viewCount == 5 && TestTimeAugmentation.none.viewCount == 1)
    }
}
