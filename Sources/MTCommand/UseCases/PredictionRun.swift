import MTAlgorithms
import MTCore
import MTNetwork
import MTStorage

/// `mt-train predict`: a trained classifier's predictions over a data set, written as pseudo-labels (the
/// teacher's output that `mt-select pseudo` chooses a student's training set from).
public enum PredictionRun {
    public static func run(checkpoint: String, dataset: String, split: String?, prediction: ModelPrediction, output: String) throws {
        let inputs = [checkpoint, dataset, split].compactMap { $0 }
        try OutputPath.check(output, inputs: inputs)
        let loaded = try Checkpoint.loadTrained(checkpoint)
        let network = loaded.network
        guard !network.normalizesOutput else {
            throw MTError.badInput(checkpoint, nil, "expected a classifier, found a metric network (normalize_output = 1): embed it with mt-features extract")
        }
        let images = try ImageDataset.read(dataset)
        guard images.channels == network.inputChannels else {
            throw MTError.badInput(dataset, "/images", "expected \(network.inputChannels) channels for \(checkpoint), found \(images.channels)")
        }
        var labeled: [Int] = [], labels: [Int32] = []
        if let split {
            let given = try Split.read(split, sampleCount: images.count)
            if let bad = given.labeledLabels.first(where: { Int($0) >= network.outputDimension }) {
                throw MTError.badInput(split, "/labeled_labels", "expected labels below the model's \(network.outputDimension) classes, found \(bad)")
            }
            (labeled, labels) = (given.labeled, given.labeledLabels)
        }
        let pseudo = prediction.pseudoLabels(network, on: images, labeled: labeled, labeledLabels: labels, progressLabel: "predict")
        try pseudo.write(output, inputs: inputs)
        let mean = pseudo.confidence.reduce(0, +) / Float(max(pseudo.count, 1))
        Console.note(String(format: "wrote %@: %d predictions of %d classes (mean confidence %.3f)", output, pseudo.count, pseudo.classCount, mean))
    }
}
