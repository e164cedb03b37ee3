import MTAlgorithms
import MTCore
import MTStorage

/// `mt-eval cluster`: cluster assignments (a pseudo-labels artifact whose labels are cluster ids, e.g.
/// self-labelling's) against the true classes: NMI, ARI, purity and Hungarian-matched accuracy, reported
/// like the other evaluations (table, JSON, metrics artifact, confusion pictures).
public struct ClusterEvaluation {
    public var inputs: [String]
    public var names: [String]
    public var truth: String
    public var json: String?
    public var output: String?
    public var plotDirectory: String?

    public init(inputs: [String], names: [String] = [], truth: String, json: String? = nil, output: String? = nil, plotDirectory: String? = nil) {
        self.inputs = inputs
        self.names = names
        self.truth = truth
        self.json = json
        self.output = output
        self.plotDirectory = plotDirectory
    }

    public func run() throws -> String {
        let runNames = try PseudoEvaluation.checkReport(inputs: inputs, names: names, truth: truth, json: json, output: output,
                                                        plotDirectory: plotDirectory)
        let truth = try TruthLabels.read(self.truth)
        var runs: [MetricsRun] = []
        for (input, name) in zip(inputs, runNames) {
            let assignments = try PseudoLabels.read(input)
            try PseudoEvaluation.checkCount(input, assignments.count, truth.labels.count)
            let classNames = PseudoEvaluation.classNames(0, truth)
            let metrics = ClusteringMetrics(assignments: assignments.labels, truth: truth.labels, clusters: assignments.classCount,
                                            classes: classNames.count)
            if metrics.evaluated == 0 { Console.warn("\(input): no sample with a known true label to evaluate") }
            runs.append(Self.run(metrics, name: name, source: input, classNames: classNames))
        }
        return try MetricsReport.deliver(runs, json: json, output: output, inputs: inputs + [self.truth], plotDirectory: plotDirectory)
    }

    /// The metrics as a run: the confusion of the true classes against the clusters' mapped classes (the
    /// Hungarian mapping; clusters it leaves unmatched go to their majority class).
    static func run(_ metrics: ClusteringMetrics, name: String, source: String, classNames: [String]) -> MetricsRun {
        let c = classNames.count
        let mapped = metrics.mapping.enumerated().map { k, m in m >= 0 ? m : Argmax.of(metrics.table[k]) }
        var confusion = [Int](repeating: 0, count: c * c)
        for k in 0..<metrics.clusters { for label in 0..<c { confusion[label * c + mapped[k]] += metrics.table[k][label] } }
        let support = (0..<c).map { row in Double((0..<c).reduce(0) { $0 + confusion[row * c + $1] }) }
        let recall = (0..<c).map { support[$0] > 0 ? Double(confusion[$0 * c + $0]) / support[$0] : .nan }
        return MetricsRun(name: name, source: source, kind: "clusters",
                          scalars: [.init("evaluated", Double(metrics.evaluated)), .init("clusters", Double(metrics.clusters)),
                                    .init("nmi", metrics.nmi), .init("ari", metrics.ari), .init("purity", metrics.purity),
                                    .init("hungarian_accuracy", metrics.hungarianAccuracy)],
                          classNames: classNames, confusion: confusion,
                          perClass: [.init("accuracy", recall), .init("support", support)], curves: [])
    }
}
