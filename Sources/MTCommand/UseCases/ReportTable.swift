import Foundation
import MTAlgorithms
import MTCore
import MTNetwork
import MTStorage

/// A plain-text table with aligned columns, for results on stdout.
public struct ReportTable: Sendable {
    public enum Alignment: Sendable { case left, right }

    public var headers: [String]
    public var alignments: [Alignment]
    public var rows: [[String]] = []

    /// Columns are right-aligned (numbers) except those listed in `leftColumns`.
    public init(_ headers: [String], leftColumns: Set<Int> = [0]) {
        self.headers = headers
        alignments = headers.indices.map { leftColumns.contains($0) ? .left : .right }
    }

    public mutating func add(_ row: [String]) {
        precondition(row.count == headers.count)
        rows.append(row)
    }

    public func render() -> String {
        let widths = headers.indices.map { column in ([headers] + rows).map { $0[column].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.indices.map { column in
                let pad = String(repeating: " ", count: widths[column] - cells[column].count)
                return alignments[column] == .left ? cells[column] + pad : pad + cells[column]
            }.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }
        let rule = widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")
        return ([line(headers), rule] + rows.map(line)).joined(separator: "\n") + "\n"
    }
}

/// Renders evaluation runs as text (stdout) and JSON (`--json`).
public enum MetricsReport {
    /// How a scalar is shown: fractions (accuracies, AUC, precision, recall, purity) in percent, counts as
    /// integers, anything else (k, a temperature, a mean cosine, NMI, ARI) as it is.
    enum Style { case percent, count, plain }

    static func style(_ name: String) -> Style {
        if name == "evaluated" || name == "support" || name == "clusters" || name.hasSuffix("_count") { return .count }
        let fractions = ["accuracy", "auc", "precision", "recall", "purity"]
        if fractions.contains(where: { name == $0 || name.hasPrefix($0 + "_") || name.hasSuffix("_" + $0) }) { return .percent }
        return .plain
    }

    static func header(_ name: String) -> String {
        if name.hasPrefix("accuracy_at_") { return "acc@" + name.dropFirst("accuracy_at_".count) + "%" }
        return name
    }

    static func format(_ value: Double, _ style: Style) -> String {
        if value.isNaN { return "-" }
        switch style {
        case .count: return String(Int(value.rounded()))
        case .percent: return String(format: "%.2f", 100 * value)
        case .plain: return String(format: "%.4g", value)
        }
    }

    /// A summary table of all runs, then each run's per-class table and (for up to 20 classes) confusion.
    public static func text(_ runs: [MetricsRun]) -> String {
        guard let first = runs.first else { return "" }
        let names = first.scalars.map(\.name)
        var summary = ReportTable(["run", "kind"] + names.map(header), leftColumns: [0, 1])
        for run in runs {
            summary.add([run.name, run.kind] + names.map { format(run.scalar($0) ?? .nan, style($0)) })
        }
        var out = summary.render() + (names.contains("auc")
            ? "(fractions in percent; auc = mean accuracy over coverages, most confident first)\n" : "(fractions in percent)\n")
        for run in runs {
            out += "\n\(run.name): per class\n"
            var table = ReportTable(["class", "name"] + run.perClass.map(\.name), leftColumns: [1])
            for c in 0..<run.classCount {
                table.add([String(c), run.classNames[c]] + run.perClass.map { format($0.values[c], style($0.name)) })
            }
            out += table.render()
            if run.classCount <= 20 {
                out += "\n\(run.name): confusion (rows true, columns predicted)\n"
                var confusion = ReportTable(["true\\pred"] + (0..<run.classCount).map(String.init))
                for c in 0..<run.classCount {
                    confusion.add([String(c)] + (0..<run.classCount).map { String(run.confusion[c * run.classCount + $0]) })
                }
                out += confusion.render()
            }
        }
        return out
    }

    /// Every number of every run; curves are sampled at each 1% of coverage (the metrics artifact has
    /// them in full). NaN (an undefined precision, say) is written as null.
    public static func json(_ runs: [MetricsRun]) throws -> Data {
        func number(_ value: Double) -> Any { value.isNaN ? NSNull() : value }
        let objects: [[String: Any]] = runs.map { run in
            var scalars: [String: Any] = [:]
            for scalar in run.scalars { scalars[scalar.name] = number(scalar.value) }
            var perClass: [String: Any] = [:]
            for series in run.perClass { perClass[series.name] = series.values.map(number) }
            var curves: [String: Any] = [:]
            for series in run.curves {
                let n = series.values.count
                let points = n == 0 ? [] : (1...100).map { percent in
                    Double(series.values[max(1, (percent * n + 99) / 100) - 1])
                }
                curves[series.name] = ["coverage": n == 0 ? [] : (1...100).map { Double($0) / 100 }, "values": points]
            }
            let c = run.classCount
            return ["name": run.name, "source": run.source, "kind": run.kind, "scalars": scalars,
                    "class_names": run.classNames, "per_class": perClass, "curves": curves,
                    "confusion": (0..<c).map { Array(run.confusion[($0 * c)..<(($0 + 1) * c)]) }]
        }
        return try JSONSerialization.data(withJSONObject: ["runs": objects], options: [.prettyPrinted, .sortedKeys])
    }

    public static func writeJSON(_ runs: [MetricsRun], to path: String, inputs: [String]) throws {
        try AtomicFile.write(path, inputs: inputs, data: try json(runs))
    }

    /// What every `mt-eval` subcommand does with its runs: the JSON file, the metrics artifact (recording
    /// `inputs`) and the pictures, each only when asked for; returns the text report for stdout. Every
    /// output name is checked against the inputs before any is written, so a refusal leaves none behind.
    public static func deliver(_ runs: [MetricsRun], json: String?, output: String?, inputs: [String],
                               plotDirectory: String?) throws -> String {
        var outputs = [json, output].compactMap { $0 }
        if let plotDirectory, directoryExists(plotDirectory) {
            outputs += PseudoEvaluation.plots(runs).map { plotDirectory + "/" + $0.file }
        }
        try OutputPath.check(outputs: outputs, inputs: inputs)
        if let json { try writeJSON(runs, to: json, inputs: inputs) }
        if let output { try MetricsFile.write(runs, to: output, inputs: inputs) }
        if let plotDirectory { try PseudoEvaluation.plot(runs, into: plotDirectory, inputs: inputs) }
        return text(runs)
    }
}
