import ArgumentParser

/// `--json`, `-o/--output`, `--plot`: where every `mt-eval` subcommand writes its report besides stdout
/// (`MetricsReport.deliver`).
struct ReportOutputOptions: ParsableArguments {
    @Option(help: "Also write every number as JSON to this file.")
    var json: String?

    @Option(name: [.short, .long], help: "Also write the metrics artifact (HDF5) to this file.")
    var output: String?

    @Option(help: "Write confusion-NAME.png (pseudo: also accuracy-coverage.png) into this directory.")
    var plot: String?
}
