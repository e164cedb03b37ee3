import MTAlgorithms
import MTCore
import MTNetwork
import MTStorage

/// `mt-eval model`: scores a classifier checkpoint on a labelled data set and reports it like
/// `mt-eval pseudo`: a table on stdout, optional JSON, metrics artifact and confusion picture.
public struct ModelEvaluation {
    public var checkpoint: String
    public var dataset: String
    /// Nil: `NetworkFeatures.batchSize(height:width:)`.
    public var batchSize: Int?
    public var json: String?
    public var output: String?
    public var plotDirectory: String?

    public init(checkpoint: String, dataset: String, batchSize: Int? = nil, json: String? = nil, output: String? = nil,
                plotDirectory: String? = nil) {
        self.checkpoint = checkpoint
        self.dataset = dataset
        self.batchSize = batchSize
        self.json = json
        self.output = output
        self.plotDirectory = plotDirectory
    }

    /// Evaluates, writes the requested outputs, and returns the text report for stdout.
    public func run() throws -> String {
        try OutputPath.check(outputs: [json, output].compactMap { $0 }, inputs: [checkpoint, dataset])
        if let plotDirectory { try PseudoEvaluation.checkParent(of: plotDirectory) }
        let loaded = try Checkpoint.loadTrained(checkpoint)
        let images = try ImageDataset.read(dataset)
        guard images.channels == loaded.network.inputChannels else {
            throw MTError.badInput(dataset, "/images", "expected \(loaded.network.inputChannels) channels for \(checkpoint), found \(images.channels)")
        }
        let (logits, k) = NetworkFeatures.run(loaded.network, on: images, layer: .output, batchSize: batchSize, progressLabel: "evaluate")
        let accuracy = ModelAccuracy(logits: logits, classes: k, labels: images.labels,
                                     classNames: loaded.classNames.isEmpty ? images.classNames : loaded.classNames)
        let runs = [accuracy.run(name: PseudoEvaluation.defaultName(checkpoint), source: checkpoint)]
        return try MetricsReport.deliver(runs, json: json, output: output, inputs: [checkpoint, dataset],
                                         plotDirectory: plotDirectory)
    }
}
