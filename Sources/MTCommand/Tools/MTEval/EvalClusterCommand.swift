import ArgumentParser
import MTAlgorithms

/// `mt-eval cluster ASSIGNMENTS... --truth DATA`: clustering metrics of cluster assignments.
struct EvalClusterCommand: ToolCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "NMI, adjusted Rand index, purity and Hungarian-matched accuracy of cluster assignments.",
        discussion: """
        ASSIGNMENTS are pseudo-labels artifacts whose /labels are cluster ids (num_classes = the number of
        clusters, which may exceed the classes: purity maps every cluster to its majority class, the Hungarian
        accuracy matches clusters to classes one to one). Samples whose true label is -1 are left out.

          mt-eval cluster clusters.h5 --truth mnist-train.h5 --json clusters.json
        """)

    @OptionGroup var common: CommonOptions
    @Argument(help: "Cluster assignments (pseudo-labels artifacts).") var inputs: [String]
    @Option(help: "Dataset or features file whose /labels are the true classes.") var truth: String
    @Option(help: "Name of each run (legend and group name), once per input.") var name: [String] = []
    @OptionGroup var report: ReportOutputOptions

    func execute() throws {
        let text = try ClusterEvaluation(inputs: inputs, names: name, truth: truth, json: report.json, output: report.output,
                                         plotDirectory: report.plot).run()
        print(text, terminator: "")
    }
}
