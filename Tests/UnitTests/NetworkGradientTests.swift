import Foundation
import Testing
@testable import MTCore
@testable import MTStorage
@testable import MTAlgorithms
@testable import MTNetwork
@testable import MTCommand

/// Central finite differences against every layer's and loss's backward. The probe loss is
/// L = sum(r * layer(x)) for a fixed random r, accumulated in float64; eps = 1e-2 and inputs kept away from
/// ReLU/max-pool kinks make the float32 difference quotient accurate to ~1e-4 of the gradient scale, while
/// a wrong gradient (missing term, wrong sign, transposed index) is off by O(1) of it.
@Suite("Network gradients")
struct NetworkGradientTests {
    static func random(_ shape: [Int], seed: UInt64, awayFromZero: Float = 0) -> Tensor {
        var rng = SeededGenerator(seed: seed)
        let values = (0..<shape.reduce(1, *)).map { _ -> Float in
            let v = rng.nextNormal()
            return v >= 0 ? v + awayFromZero : v - awayFromZero
        }
        return Tensor(shape: shape, data: values)
    }

    static func probe(_ y: Tensor, _ r: Tensor) -> Double {
        zip(y.data, r.data).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }

    /// Checks d(probe)/d(input) and d(probe)/d(each trainable parameter) at up to `samples` entries each.
    static func check(_ layer: Layer, input: Tensor, samples: Int = 24, eps: Float = 1e-2, tolerance: Double = 1e-2,
                      reset: () -> Void = {}) {
        reset()
        let r = random(layer.forward(input, training: true).shape, seed: 99)
        for (_, p) in layer.namedParameters() { p.zeroGrad() }
        reset()
        _ = layer.forward(input, training: true)
        let gradInput = layer.backward(r)
        func loss(_ x: Tensor) -> Double {
            reset()
            return probe(layer.forward(x, training: true), r)
        }
        func compare(_ analytic: [Float], _ what: String, perturb: (Int, Float) -> Double) {
            var rng = SeededGenerator(seed: 7)
            let indices = analytic.count <= samples ? Array(0..<analytic.count)
                : (0..<samples).map { _ in Int(rng.next() % UInt64(analytic.count)) }
            let scale = max(Double(analytic.map(abs).max() ?? 0), 1e-3)
            var worst = 0.0
            for i in indices {
                let numeric = (perturb(i, eps) - perturb(i, -eps)) / Double(2 * eps)
                worst = max(worst, abs(numeric - Double(analytic[i])))
            }
            #expect(worst / scale <= tolerance, "\(type(of: layer)) \(what): error \(worst) at gradient scale \(scale)")
        }
        compare(gradInput.data, "input") { i, delta in
            var x = input
            x.data[i] += delta
            return loss(x)
        }
        for (key, parameter) in layer.namedParameters() where parameter.kind == .trainable {
            compare(parameter.grad, key) { i, delta in
                let saved = parameter.value[i]
                parameter.value[i] += delta
                defer { parameter.value[i] = saved }
                return loss(input)
            }
        }
    }

    static func randomize(_ layer: Layer, seed: UInt64) {
        var rng = SeededGenerator(seed: seed)
        for (_, p) in layer.namedParameters() where p.kind == .trainable {
            for i in 0..<p.value.count { p.value[i] = 0.5 * rng.nextNormal() + (p.shape.count == 1 ? 0.5 : 0) }
        }
    }

    @Test func conv2dPaddedStridedWithBias() {
        for (k, stride, padding) in [(3, 1, 1), (3, 2, 1), (2, 2, 0), (5, 1, 2)] {
            let conv = Conv2d(3, 4, kernelSize: k, stride: stride, padding: padding, bias: true)
            Self.randomize(conv, seed: 1)
            Self.check(conv, input: Self.random([2, 3, 7, 6], seed: 2))
        }
    }

    @Test func conv2dPointwise() {
        let conv = Conv2d(5, 3, kernelSize: 1)
        Self.randomize(conv, seed: 3)
        Self.check(conv, input: Self.random([3, 5, 4, 4], seed: 4))
    }

    @Test func conv2dResultsDoNotDependOnTheThreadCount() {
        let conv = Conv2d(2, 3, kernelSize: 3, padding: 1, bias: true)
        Self.randomize(conv, seed: 5)
        let x = Self.random([13, 2, 6, 6], seed: 6), dy = Self.random([13, 3, 6, 6], seed: 7)
        var runs: [([Float], [Float], [Float], [Float])] = []
        for threads in [1, 3] {
            Parallel.$threadCount.withValue(threads) {
                conv.weight.zeroGrad()
                conv.bias!.zeroGrad()
                let y = conv.forward(x, training: true)
                let dx = conv.backward(dy)
                runs.append((y.data, dx.data, conv.weight.grad, conv.bias!.grad))
            }
        }
        #expect(runs[0].0 == runs[1].0 && runs[0].1 == runs[1].1 && runs[0].2 == runs[1].2 && runs[0].3 == runs[1].3)
    }

    @Test func batchNormTraining() {
        let bn = BatchNorm2d(3)
        Self.randomize(bn, seed: 7)
        Self.check(bn, input: Self.random([4, 3, 3, 2], seed: 8), eps: 1e-2, tolerance: 2e-2)
    }

    @Test func batchNormRunningStatistics() {
        let bn = BatchNorm2d(1, momentum: 0.1)
        let x = Tensor(shape: [2, 1, 1, 2], data: [1, 2, 3, 6])    // mean 3, biased var 3.5, unbiased 14/3
        _ = bn.forward(x, training: true)
        #expect(abs(bn.runningMean.value[0] - 0.3) < 1e-6)
        #expect(abs(bn.runningVar.value[0] - (0.9 + 0.1 * 14 / 3)) < 1e-6)
        #expect(bn.batchesTracked.value[0] == 1)
        let y = bn.forward(x, training: false)
        #expect(abs(y.data[0] - (1 - 0.3) / (bn.runningVar.value[0] + 1e-5).squareRoot()) < 1e-5)
    }

    @Test func relu() {
        Self.check(ReLU(), input: Self.random([2, 3, 4, 4], seed: 9, awayFromZero: 0.05))
    }

    @Test func maxPool() {
        // Distinct values 0.05 apart: no window has a near-tie that eps could flip.
        var rng = SeededGenerator(seed: 10)
        let values = (0..<(2 * 2 * 6 * 6)).map { Float($0) * 0.05 }.shuffled(using: &rng)
        Self.check(MaxPool2d(kernelSize: 2), input: Tensor(shape: [2, 2, 6, 6], data: values))
        Self.check(MaxPool2d(kernelSize: 3, stride: 2), input: Tensor(shape: [2, 2, 6, 6], data: values))
        Self.check(MaxPool2d(kernelSize: 3, stride: 2, padding: 1), input: Tensor(shape: [2, 2, 6, 6], data: values))
    }

    @Test func maxPoolPaddingNeverWins() {
        // All values negative: a zero-padded window would return 0 at the border; -infinity padding cannot.
        let input = Tensor(shape: [1, 1, 3, 3], data: [-9, -8, -7, -6, -5, -4, -3, -2, -1])
        let output = MaxPool2d(kernelSize: 3, stride: 2, padding: 1).forward(input, training: false)
        #expect(output.shape == [1, 1, 2, 2])
        #expect(output.data == [-5, -4, -2, -1])
    }

    @Test func averagePools() {
        Self.check(AvgPool2d(kernelSize: 2), input: Self.random([2, 3, 4, 6], seed: 11))
        Self.check(AvgPool2d(kernelSize: 3, stride: 1), input: Self.random([2, 3, 5, 5], seed: 12))
        Self.check(GlobalAvgPool(), input: Self.random([2, 3, 4, 5], seed: 13))
    }

    @Test func linearAndFlatten() {
        let linear = Linear(12, 5)
        Self.randomize(linear, seed: 14)
        Self.check(Sequential(indexed: [Flatten(), linear]), input: Self.random([3, 3, 2, 2], seed: 15))
    }

    @Test func dropoutUsesItsMaskInBackward() {
        let dropout = Dropout(0.3, seed: 4)
        Self.check(dropout, input: Self.random([4, 10], seed: 16)) { dropout.step = 0 }
        let y = dropout.forward(Tensor(shape: [1, 1000], data: [Float](repeating: 1, count: 1000)), training: true)
        let kept = y.data.filter { $0 != 0 }
        #expect(kept.allSatisfy { abs($0 - 1 / 0.7) < 1e-6 } && abs(Double(kept.count) / 1000 - 0.7) < 0.06)
    }

    @Test func l2Normalize() {
        Self.check(L2Normalize(), input: Self.random([3, 6], seed: 17))
    }

    /// Composites with ReLUs inside: a perturbed batchnorm bias moves a whole channel across the kink, so
    /// the tolerance is looser here (0.1 of the gradient scale; a dropped residual path or shortcut is off
    /// by O(1)). The tight check of these blocks is the PyTorch parity suite.
    @Test func residualBlocks() {
        let blocks: [(Layer, Int)] = [(WideBasicBlock(3, 3, stride: 1), 3), (WideBasicBlock(2, 4, stride: 2), 2),
                                      (ResNetBasicBlock(3, 3, stride: 1), 3), (ResNetBasicBlock(2, 4, stride: 2), 2),
                                      (BottleneckBlock(8, 2, stride: 1), 8), (BottleneckBlock(3, 2, stride: 2), 3)]
        for (block, channels) in blocks {
            Self.randomize(block, seed: 18)
            Self.check(block, input: Self.random([3, channels, 4, 4], seed: 19), eps: 1e-3, tolerance: 0.1)
        }
    }

    @Test func crossEntropyWithWeightsAndSmoothing() {
        let logits = Self.random([4, 5], seed: 20)
        let targets: [Int32] = [0, 3, 4, 1], weights: [Float] = [1, 0.5, 2, 0]
        for smoothing: Float in [0, 0.1] {
            let loss = CrossEntropyLoss(labelSmoothing: smoothing)
            let result = loss(logits, targets: targets, weights: weights)
            for i in 0..<logits.count {
                var plus = logits, minus = logits
                plus.data[i] += 1e-2
                minus.data[i] -= 1e-2
                let numeric = (loss(plus, targets: targets, weights: weights).loss - loss(minus, targets: targets, weights: weights).loss) / 2e-2
                #expect(abs(numeric - Double(result.gradient.data[i])) < 1e-4)
            }
        }
        // Unweighted, unsmoothed: -mean log softmax at the target.
        let plain = CrossEntropyLoss()(Tensor(shape: [1, 2], data: [0, 0]), targets: [1])
        #expect(abs(plain.loss - log(2)) < 1e-9)
    }

    @Test func sgdMatchesPyTorchUpdateRule() {
        let p = Parameter(.trainable, shape: [1], value: [1])
        let sgd = SGD([("p", p)], momentum: 0.9, weightDecay: 0.1, nesterov: false)
        p.grad = [0.5]
        sgd.step(lr: 0.1)          // d = 0.5 + 0.1 = 0.6, b = 0.6, p = 1 - 0.06
        #expect(abs(p.value[0] - 0.94) < 1e-6 && p.grad == [0])
        p.grad = [0.5]
        sgd.step(lr: 0.1)          // d = 0.5 + 0.094 = 0.594, b = 0.54 + 0.594 = 1.134
        #expect(abs(p.value[0] - (0.94 - 0.1134)) < 1e-6)
    }

    @Test func schedules() throws {
        #expect(LearningRateSchedule.cosine.rate(base: 0.1, epoch: 5, total: 10) == 0.05)
        let restarts = try LearningRateSchedule(parsing: "restarts:2:2")
        #expect(abs(restarts.rate(base: 1, epoch: 2, total: 10) - 1) < 1e-12)     // restart after 2 epochs
        #expect(abs(restarts.rate(base: 1, epoch: 4, total: 10) - 0.5) < 1e-12)   // middle of the 4-epoch cycle
        let step = try LearningRateSchedule(parsing: "step:3,6:0.5")
        #expect(step.rate(base: 1, epoch: 6.5, total: 10) == 0.25)
        #expect(throws: MTError.self) { try LearningRateSchedule(parsing: "linear") }
    }
}
