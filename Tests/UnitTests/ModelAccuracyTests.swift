import Testing
@testable import MTCore
@testable import MTStorage
@testable import MTAlgorithms
@testable import MTNetwork
@testable import MTCommand

@Suite("Model accuracy")
struct ModelAccuracyTests {
    @Test func topOneTopFiveAndConfusion() {
        // 3 samples, 6 classes: sample 0 right, sample 1 second choice, sample 2 sixth choice; one unlabelled.
        let logits: [Float] = [
            9, 1, 2, 3, 4, 5,
            5, 9, 1, 2, 3, 4,
            1, 2, 3, 4, 5, 9,
            0, 0, 0, 0, 0, 0,
        ]
        let accuracy = ModelAccuracy(logits: logits, classes: 6, labels: [0, 0, 0, -1], classNames: [])
        #expect(accuracy.evaluated == 3)
        #expect(abs(accuracy.top1 - 1.0 / 3) < 1e-12)
        #expect(abs(accuracy.top5 - 2.0 / 3) < 1e-12)
        #expect(accuracy.confusion.row(0) == [1, 1, 0, 0, 0, 1])
        #expect(abs(accuracy.perClass[0] - 1.0 / 3) < 1e-12 && accuracy.perClass[1].isNaN)
    }
}
