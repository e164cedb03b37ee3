import MTAlgorithms
import MTCore
import MTNetwork
import MTStorage

/// `mt-eval metric`: how well an embedding separates the classes, measured as the reference measures its
/// unsupervised network (Wu et al. 2018, section 3.4): every held-out row is classified by the weighted
/// vote of its k most similar training rows (weight exp(cos / T), k = 200, T = 0.07) and the top-1
/// accuracy is reported, with the mean pairwise cosine of the held-out rows (near 1 = collapsed). Works for
/// any features file, so pixels, PCA and learned metrics are compared on the same scale. With `linear`,
/// also the linear-probe accuracy (the self-label and instance-discrimination papers' protocol): a
/// `LogisticRegression` fitted to the labelled training rows, tested on the held-out rows.
public struct MetricEvaluation {
    /// Labelled training features (the voters) and held-out features (the queries), same dimension.
    public var reference: String
    public var queries: String
    public var k: Int
    public var temperature: Double
    public var json: String?
    public var output: String?
    public var plotDirectory: String?
    public var linear: LogisticRegression?

    public init(reference: String, queries: String, k: Int = KNNVoting.monitorK, temperature: Double = KNNVoting.monitorTemperature, json: String? = nil,
                output: String? = nil, plotDirectory: String? = nil, linear: LogisticRegression? = nil) {
        self.linear = linear
        self.reference = reference
        self.queries = queries
        self.k = k
        self.temperature = temperature
        self.json = json
        self.output = output
        self.plotDirectory = plotDirectory
    }

    /// Evaluates, writes the requested outputs, and returns the text report for stdout.
    public func run() throws -> String {
        guard k > 0 else { throw MTError.usage("-k: expected a positive number of voters, found \(k)") }
        guard temperature > 0 else { throw MTError.usage("--temperature: expected a positive value, found \(temperature)") }
        try OutputPath.check(outputs: [json, output].compactMap { $0 }, inputs: [reference, queries])
        if let plotDirectory { try PseudoEvaluation.checkParent(of: plotDirectory) }
        let train = try Self.unitRows(reference)
        let test = try Self.unitRows(queries)
        guard train.dimension == test.dimension else {
            throw MTError.badInput(queries, "/features", "expected \(train.dimension) columns like \(reference), found \(test.dimension)")
        }
        guard let trainMax = train.labels.max(), trainMax >= 0 else {
            throw MTError.badInput(reference, "/labels", "expected labelled rows to vote with, found none")
        }
        guard test.labels.contains(where: { $0 >= 0 }) else {
            throw MTError.badInput(queries, "/labels", "expected labelled rows to evaluate, found none")
        }
        let predicted = try KNNVoting.classify(try RowMatrix(test.values, count: test.count, dimension: test.dimension, origin: queries),
                                               reference: train.values, referenceLabels: train.labels, dimension: test.dimension,
                                               k: k, temperature: temperature)!
        let classes = Int(max(trainMax, test.labels.max()!) + 1)
        let confusion = ConfusionMatrix(truth: test.labels, predicted: predicted, classes: classes)
        var linearScalars: [MetricsRun.Scalar] = []
        if let linear {
            let known = train.labels.indices.filter { train.labels[$0] >= 0 }
            let rows = known.flatMap { train.values[($0 * train.dimension)..<(($0 + 1) * train.dimension)] }
            let model = linear.fit(rows, dimension: train.dimension, labels: known.map { train.labels[$0] }, classes: classes)
            let probe = ConfusionMatrix(truth: test.labels, predicted: model.predict(test.values).map { Int32($0) }, classes: classes)
            linearScalars = [.init("linear_accuracy", Double(probe.correct) / Double(probe.evaluated)), .init("linear_train_loss", model.finalLoss),
                             .init("linear_epochs", Double(linear.epochs))]
        }
        let run = MetricsRun(
            name: PseudoEvaluation.defaultName(queries), source: queries, kind: "metric",
            scalars: [.init("evaluated", Double(confusion.evaluated)),
                      .init("accuracy", Double(confusion.correct) / Double(confusion.evaluated)),
                      .init("mean_cosine", MemoryBank.meanPairwiseCosine(test.values, count: test.count, dimension: test.dimension)),
                      .init("k", Double(min(k, train.count))), .init("temperature", temperature)] + linearScalars,
            classNames: (0..<classes).map(String.init), confusion: confusion.counts,
            perClass: [.init("accuracy", (0..<classes).map(confusion.recall)),
                       .init("support", (0..<classes).map { Double(confusion.support($0)) })],
            curves: [])
        return try MetricsReport.deliver([run], json: json, output: output, inputs: [reference, queries],
                                         plotDirectory: plotDirectory)
    }

    /// A features file with its rows scaled to unit length (cosine similarity = inner product).
    static func unitRows(_ path: String) throws -> Features {
        var features = try Features.read(path)
        if !features.normalized {
            RowOps.normalize(&features.values, rows: features.count, dimension: features.dimension)
            features.normalized = true
        }
        return features
    }
}
