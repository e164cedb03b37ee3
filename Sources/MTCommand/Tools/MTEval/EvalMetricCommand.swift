import ArgumentParser
import MTAlgorithms
import MTCore
import MTNetwork
import MTStorage

/// `mt-eval metric TRAIN.h5 TEST.h5`: the weighted 200-NN accuracy of an embedding.
struct EvalMetricCommand: ToolCommand {
    static let configuration = CommandConfiguration(
        commandName: "metric",
        abstract: "Weighted kNN accuracy of held-out features voted by labelled training features (the reference's monitor).",
        discussion: """
        Each held-out row takes the class with the largest sum of exp(cos / T) over its k most similar training
        rows. Rows are L2-normalised first unless the file says they are.

        Example:
          mt-eval metric features-train.h5 features-test.h5 --json metric.json
        """)

    @OptionGroup var common: CommonOptions
    @Argument(help: "Features of the labelled training samples (features artifact with /labels).") var train: String
    @Argument(help: "Features of the held-out samples (features artifact with /labels).") var test: String
    @Option(name: [.short, .long], parsing: .unconditional, help: NumericChecks.help("Voters per held-out row", .atLeast(1))) var k = KNNVoting.monitorK
    @Option(parsing: .unconditional, help: NumericChecks.help("Temperature T of the vote weights exp(cos / T)", .positive)) var temperature = KNNVoting.monitorTemperature
    @Flag(help: "Also the linear-probe accuracy: logistic regression fitted to the training rows, tested on the held-out rows.") var linear = false
    @Option(parsing: .unconditional, help: NumericChecks.help("Gradient-descent steps of the linear probe", .atLeast(1))) var linearEpochs = 200
    @Option(parsing: .unconditional, help: NumericChecks.help("Its learning rate", .positive)) var linearLr = 1.0
    @OptionGroup var report: ReportOutputOptions

    func validate() throws {
        try NumericChecks.check(k, .atLeast(1), "-k")
        try NumericChecks.check(temperature, .positive, "--temperature")
        try NumericChecks.check(linearEpochs, .atLeast(1), "--linear-epochs")
        try NumericChecks.check(linearLr, .positive, "--linear-lr")
    }

    func execute() throws {
        let text = try MetricEvaluation(reference: train, queries: test, k: k, temperature: temperature, json: report.json,
                                        output: report.output, plotDirectory: report.plot,
                                        linear: linear ? LogisticRegression(epochs: linearEpochs, learningRate: linearLr) : nil).run()
        print(text, terminator: "")
    }
}
