import Foundation
import MTAlgorithms
import MTCore
import MTNetwork
import MTStorage

/// `mt-eval pseudo`: scores pseudo-labels or selections against true labels and reports them as a table,
/// JSON, a `metrics` artifact and pictures.
public struct PseudoEvaluation {
    /// Pseudo-labels or selection files, each one run.
    public var inputs: [String]
    /// Run names (legend and group names); default: each input's file name without extension.
    public var names: [String]
    /// A dataset or features file whose `/labels` are the truth (-1 = unknown, not evaluated).
    public var truth: String
    public var json: String?
    public var output: String?
    public var plotDirectory: String?

    public init(inputs: [String], names: [String] = [], truth: String, json: String? = nil, output: String? = nil,
                plotDirectory: String? = nil) {
        self.inputs = inputs
        self.names = names
        self.truth = truth
        self.json = json
        self.output = output
        self.plotDirectory = plotDirectory
    }

    /// Computes every run, writes the requested outputs, and returns the text report for stdout.
    public func run() throws -> String {
        let runNames = try Self.checkReport(inputs: inputs, names: names, truth: truth, json: json, output: output, plotDirectory: plotDirectory)
        let truth = try TruthLabels.read(self.truth)
        var runs: [MetricsRun] = []
        for (input, name) in zip(inputs, runNames) {
            runs.append(try evaluate(input, name: name, truth: truth))
        }

        return try MetricsReport.deliver(runs, json: json, output: output, inputs: inputs + [self.truth],
                                         plotDirectory: plotDirectory)
    }

    private func evaluate(_ input: String, name: String, truth: TruthLabels) throws -> MetricsRun {
        let reader = try ArtifactReader(input, expecting: [.pseudoLabels, .selection])
        let isSelection = reader.kind == .selection || (reader.kind == nil && reader.file.exists("/index"))
        reader.file.close()
        let metrics: PseudoLabelMetrics
        let classNames: [String]
        if isSelection {
            let selection = try Selection.read(input)
            try Self.checkCount(input, selection.sampleCount, truth.labels.count)
            classNames = Self.classNames(selection.classCount, truth)
            metrics = PseudoLabelMetrics.evaluate(selection, truth: truth.labels, classCount: classNames.count)
        } else {
            let pseudo = try PseudoLabels.read(input)
            try Self.checkCount(input, pseudo.count, truth.labels.count)
            classNames = Self.classNames(pseudo.classCount, truth)
            metrics = PseudoLabelMetrics.evaluate(pseudo, truth: truth.labels, classCount: classNames.count)
        }
        if metrics.evaluated == 0 {
            Console.warn("\(input): no sample to evaluate (none unlabelled with a known true label)")
        }
        return metrics.run(name: name, source: input, kind: isSelection ? "selection" : "pseudo-labels", classNames: classNames)
    }

    /// `accuracy-coverage.png` with every run overlaid, and `confusion-NAME.png` per run; none may be
    /// one of `inputs`.
    public static func plot(_ runs: [MetricsRun], into directory: String, inputs: [String]) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw MTError.badInput(directory, nil, "cannot create the plot directory (a file is in the way?)")
        }
        for picture in plots(runs) { try picture.draw().writePNG(directory + "/" + picture.file, inputs: inputs) }
    }

    /// The pictures `plot` writes: each file name in the directory, and how to draw it.
    static func plots(_ runs: [MetricsRun]) -> [(file: String, draw: () -> PlotCanvas)] {
        let curves = runs.compactMap { run in
            run.curve("accuracy_coverage").map {
                (label: "\(run.name)  AUC \(percent(run.scalar("auc")))  acc \(percent(run.scalar("accuracy")))", values: $0)
            }
        }
        var pictures: [(file: String, draw: () -> PlotCanvas)] = []
        if !curves.isEmpty {
            pictures.append(("accuracy-coverage.png", { PlotCharts.accuracyCoverage(curves, title: "Accuracy vs coverage") }))
        }
        for run in runs {
            let evaluated = Int(run.scalar("evaluated") ?? 0)
            let title = "\(run.name): accuracy \(percent(run.scalar("accuracy"))) of \(evaluated)"
            pictures.append(("confusion-\(run.name).png", { PlotCharts.confusion(run, title: title) }))
        }
        return pictures
    }

    static func percent(_ value: Double?) -> String {
        guard let value, !value.isNaN else { return "-" }
        return String(format: "%.2f%%", 100 * value)
    }

    /// The checks every evaluation of files against a truth file makes before reading them — one `--name`
    /// per input or none, outputs that are no input, a usable `--plot` directory — and the run names.
    static func checkReport(inputs: [String], names: [String], truth: String, json: String?, output: String?,
                            plotDirectory: String?) throws -> [String] {
        if !names.isEmpty, names.count != inputs.count {
            throw MTError.usage("--name given \(names.count) times for \(inputs.count) inputs; give one per input or none")
        }
        try OutputPath.check(outputs: [json, output].compactMap { $0 }, inputs: inputs + [truth])
        if let plotDirectory {
            try checkParent(of: plotDirectory)
            if fileExists(plotDirectory) { throw MTError.badInput(plotDirectory, nil, "is a file, expected a directory for --plot") }
        }
        return uniqueNames(names.isEmpty ? inputs.map(defaultName) : names)
    }

    static func classNames(_ classes: Int, _ truth: TruthLabels) -> [String] {
        let count = max(classes, truth.classNames.count, Int(truth.labels.max() ?? -1) + 1)
        return (0..<count).map { $0 < truth.classNames.count ? truth.classNames[$0] : String($0) }
    }

    static func checkCount(_ input: String, _ count: Int, _ truthCount: Int) throws {
        guard count == truthCount else {
            throw MTError.badInput(input, nil, "expected \(truthCount) samples (as in the truth file), found \(count)")
        }
    }

    static func checkParent(of path: String) throws {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        guard directoryExists(directory) else {
            throw MTError.badInput(path, nil, "output directory \(directory) does not exist")
        }
    }

    static func defaultName(_ path: String) -> String {
        URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
    }

    /// Names made usable as HDF5 group and file names ('/' replaced) and unique (a "-2" suffix, ...).
    static func uniqueNames(_ names: [String]) -> [String] {
        var seen: Set<String> = []
        return names.map { raw in
            let base = raw.isEmpty ? "run" : raw.replacingOccurrences(of: "/", with: "_")
            var name = base, suffix = 2
            while seen.contains(name) {
                name = "\(base)-\(suffix)"
                suffix += 1
            }
            seen.insert(name)
            return name
        }
    }
}
