import Foundation
import MTCore

/// Test-time augmentation: the views of each image whose softmax outputs are averaged.
public enum TestTimeAugmentation: String, CaseIterable, Codable, Sendable {
    /// The image alone.
    case none
    /// The image and its mirror image (natural photos; not for digits).
    case flip
    /// The image and its shifts by 2 pixels up, down, left and right, the vacated border black (digits).
    case shift

    public var viewCount: Int {
        switch self {
        case .none: 1
        case .flip: 2
        case .shift: 5
        }
    }

    /// View `view` (0 is the image itself) of a normalised batch [B, C, H, W]; `black` per channel is the
    /// normalised value of a zero pixel, what a shift moves in.
    public func view(_ view: Int, of input: Tensor, black: [Float]) -> Tensor {
        guard view > 0 else { return input }
        let (b, c, h, w) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        var output = input
        // (dy, dx): the source pixel of (y, x) is (y - dy, x - dx).
        let shifts = [(0, 0), (-2, 0), (2, 0), (0, -2), (0, 2)]
        for plane in 0..<(b * c) {
            let base = plane * h * w, fill = black[plane % c]
            for y in 0..<h {
                for x in 0..<w {
                    let value: Float
                    if self == .flip {
                        value = input.data[base + y * w + (w - 1 - x)]
                    } else {
                        let (sy, sx) = (y - shifts[view].0, x - shifts[view].1)
                        value = (0..<h).contains(sy) && (0..<w).contains(sx) ? input.data[base + sy * w + sx] : fill
                    }
                    output.data[base + y * w + x] = value
                }
            }
        }
        return output
    }
}

/// A trained classifier's predictions as pseudo-labels (the teacher of teacher/student training): for
/// every image, p = the mean over the test-time views of softmax(logits / temperature), in float64 per
/// row. Inference runs `batchSize` images at a time, so its working memory does not grow with N (the
/// result, N x K, does).
public struct ModelPrediction: Sendable {
    public var temperature: Double
    public var augmentation: TestTimeAugmentation
    public var batchSize: Int

    public init(temperature: Double = 1, augmentation: TestTimeAugmentation = .none, batchSize: Int = 512) {
        precondition(temperature > 0 && batchSize >= 1)
        self.temperature = temperature
        self.augmentation = augmentation
        self.batchSize = batchSize
    }

    /// [N, K] row-major class probabilities of every image of `dataset`.
    public func probabilities(_ network: Network, on dataset: ImageDataset, progressLabel: String? = nil) -> [Float] {
        let k = network.outputDimension
        let batcher = ImageBatcher(dataset: dataset, mean: network.inputMean, std: network.inputStd, augmentation: .none)
        let black = zip(network.inputMean, network.inputStd).map { -$0 / $1 }
        var probs = [Float](repeating: 0, count: dataset.count * k)
        let progress = progressLabel.map { ProgressMeter($0, total: dataset.count, unit: "img") }
        for start in stride(from: 0, to: dataset.count, by: batchSize) {
            let indices = Array(start..<min(start + batchSize, dataset.count))
            let input = batcher.batch(indices)
            var sum = [Double](repeating: 0, count: indices.count * k)
            for view in 0..<augmentation.viewCount {
                let logits = network.forward(augmentation.view(view, of: input, black: black), training: false)
                let p = ConsistencyMath.softmax(logits, temperature: temperature)
                for i in 0..<sum.count { sum[i] += p[i] }
            }
            let scale = 1 / Double(augmentation.viewCount)
            for i in 0..<sum.count { probs[start * k + i] = Float(sum[i] * scale) }
            progress?.advance(by: indices.count)
        }
        progress?.finish()
        return probs
    }

    /// The `pseudo-labels` of `dataset` (method `predict`): the argmax and its probability for every
    /// image; the `labeled` samples (a split's) keep their given label, one-hot, confidence 1, as every
    /// propagation method writes them.
    public func pseudoLabels(_ network: Network, on dataset: ImageDataset, labeled: [Int] = [], labeledLabels: [Int32] = [],
                             progressLabel: String? = nil) -> PseudoLabels {
        let k = network.outputDimension
        var probs = probabilities(network, on: dataset, progressLabel: progressLabel)
        for (index, label) in zip(labeled, labeledLabels) {
            for c in 0..<k { probs[index * k + c] = c == Int(label) ? 1 : 0 }
        }
        let labels = Argmax.rows(probs, columns: k)
        let confidence = labels.enumerated().map { probs[$0.offset * k + $0.element] }
        return PseudoLabels(probs: probs, labels: labels.map { Int32($0) }, confidence: confidence, count: dataset.count, classCount: k,
                            labeled: labeled, labeledLabels: labeledLabels, method: "predict",
                            parameters: ["temperature": .double(temperature), "tta": .string(augmentation.rawValue),
                                         "arch": .string(network.architecture.rawValue)])
    }
}
