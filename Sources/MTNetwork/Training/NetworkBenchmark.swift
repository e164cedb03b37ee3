import Foundation
import MTAlgorithms
import MTCore

/// Throughput of the engine on synthetic data, for `bench/network.sh` (`mt-train benchmark`): training
/// steps (forward + backward + SGD step) and inference batches, timed after one warm-up of each.
public enum NetworkBenchmark {
    public struct Result: Sendable {
        public var trainImagesPerSecond: Double
        public var inferImagesPerSecond: Double
    }

    public static func run(_ arch: Architecture, channels: Int, size: Int, classes: Int = 10, trainBatch: Int = 128,
                           trainSteps: Int, inferBatch: Int = 512, inferBatches: Int, seed: UInt64 = 0) -> Result {
        let network = Network(arch, inputChannels: channels, outputDimension: classes)
        network.initialize(seed: seed)
        let optimizer = SGD(network.namedParameters(), momentum: 0.9, weightDecay: 5e-4)
        let loss = CrossEntropyLoss()
        var rng = SeededGenerator(seed: seed)
        func batch(_ n: Int) -> Tensor {
            Tensor(shape: [n, channels, size, size], data: (0..<(n * channels * size * size)).map { _ in rng.nextNormal() })
        }
        let trainInput = batch(trainBatch), targets = (0..<trainBatch).map { Int32($0 % classes) }
        func step() {
            let output = network.forward(trainInput, training: true)
            network.backwardParameters(loss(output, targets: targets).gradient)
            optimizer.step(lr: 0.01)
        }
        step()
        var start = Date()
        for _ in 0..<trainSteps { step() }
        let train = Double(trainSteps * trainBatch) / Date().timeIntervalSince(start)
        let inferInput = batch(inferBatch)
        _ = network.forward(inferInput, training: false)
        start = Date()
        for _ in 0..<inferBatches { _ = network.forward(inferInput, training: false) }
        let infer = Double(inferBatches * inferBatch) / Date().timeIntervalSince(start)
        return Result(trainImagesPerSecond: train, inferImagesPerSecond: infer)
    }
}
