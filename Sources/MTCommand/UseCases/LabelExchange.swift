import Foundation
import MTAlgorithms
import MTCore
import MTStorage

/// The tables mt exchanges with labelling tools: CSV (RFC 4180, one header row) or JSON Lines (one object
/// per line), chosen by the file's extension. Columns: `index` (row in the data set), `path` (the image's
/// file, folder imports), `label` and `class_name` (what to train with; empty for a question), then
/// context columns (`confidence`, `labeled`, `predicted`, `predicted_class`, `margin`, `reason`).
enum LabelTable {
    enum Format { case csv, jsonLines }

    static func format(of path: String) throws -> Format {
        switch (path as NSString).pathExtension.lowercased() {
        case "csv": return .csv
        case "jsonl", "ndjson": return .jsonLines
        default: throw MTError.usage("\(path): expected a .csv or .jsonl file name")
        }
    }

    /// A column's value: text, an integer, a number, a flag, or nothing (empty in CSV, null in JSON).
    enum Value {
        case text(String), integer(Int), number(Float), flag(Bool), empty

        var csv: String {
            switch self {
            case .text(let text): text
            case .integer(let value): String(value)
            case .number(let value): String(format: "%.6g", Double(value))
            case .flag(let value): value ? "true" : "false"
            case .empty: ""
            }
        }

        var json: Any {
            switch self {
            case .text(let text): text
            case .integer(let value): value
            case .number(let value): Double(String(format: "%.6g", Double(value)))!
            case .flag(let value): value
            case .empty: NSNull()
            }
        }
    }

    /// Writes `rows` (each in `columns` order) atomically to `path`.
    static func write(_ columns: [String], _ rows: [[Value]], to path: String, inputs: [String]) throws {
        let data: Data
        switch try format(of: path) {
        case .csv:
            data = Data(CSVTable(header: columns, rows: rows.map { $0.map(\.csv) }).text().utf8)
        case .jsonLines:
            var text = ""
            for row in rows {
                let object = Dictionary(uniqueKeysWithValues: zip(columns, row.map(\.json)))
                let line = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
                text += String(decoding: line, as: UTF8.self) + "\n"
            }
            data = Data(text.utf8)
        }
        try AtomicFile.write(path, inputs: inputs, data: data)
    }

    /// Reads a table written by `write` or by a labelling tool: named columns, values as text (JSON numbers,
    /// flags and nulls turned into their CSV spelling).
    static func read(_ path: String) throws -> (columns: [String], rows: [[String: String]]) {
        switch try format(of: path) {
        case .csv:
            let table = try CSVTable.read(path, hasHeader: true)
            let columns = table.header.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            let rows = table.rows.map { row in
                Dictionary(zip(columns, row.map { $0.trimmingCharacters(in: .whitespaces) }), uniquingKeysWith: { first, _ in first })
            }
            return (columns, rows)
        case .jsonLines:
            guard let data = FileManager.default.contents(atPath: path) else { throw MTError.badInput(path, nil, "cannot read the file") }
            var columns: [String] = [], rows: [[String: String]] = []
            for (number, line) in String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).enumerated() {
                guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                    throw MTError.badInput(path, nil, "line \(number + 1): expected a JSON object")
                }
                var row: [String: String] = [:]
                for (key, value) in object {
                    let name = key.lowercased()
                    if !columns.contains(name) { columns.append(name) }
                    switch value {
                    case is NSNull: row[name] = ""
                    case let text as String: row[name] = text
                    // JSON true/false arrive as Foundation's boolean NSNumber subclass (0 and 1 also cast to Bool).
                    case let flag as NSNumber where String(describing: type(of: flag)) == "__NSCFBoolean": row[name] = flag.boolValue ? "true" : "false"
                    case let number as NSNumber: row[name] = number.stringValue
                    default: throw MTError.badInput(path, nil, "line \(number + 1): \(key): expected a text, number or null")
                    }
                }
                rows.append(row)
            }
            return (columns, rows)
        }
    }
}

/// `mt-select export`: a selection or pseudo-labels file as a table for review.
enum LabelExport {
    enum Order: String, CaseIterable, Sendable {
        /// The file's order: a selection's (labelled, then most confident first), pseudo-labels' by index.
        case stored
        case leastConfident = "least-confident"
        case mostConfident = "most-confident"
    }

    static func run(input: String, dataset: String?, order: Order, excludeLabeled: Bool, output: String) throws {
        var inputs = [input]
        if let dataset { inputs.append(dataset) }
        try OutputPath.check(output, inputs: inputs)
        _ = try LabelTable.format(of: output)
        let entries = try readEntries(input)
        let truth = try dataset.map { try TruthLabels.read($0) }
        if let truth, truth.count != entries.sampleCount {
            throw MTError.badInput(dataset!, "/labels", "expected \(entries.sampleCount) samples like \(input), found \(truth.count)")
        }
        let names = truth.map(\.classNames).flatMap { $0.isEmpty ? nil : $0 }
        if let names, names.count != entries.classCount {
            throw MTError.badInput(dataset!, "/class_names", "expected \(entries.classCount) classes like \(input), found \(names.count)")
        }
        var rows = entries.rows.filter { !excludeLabeled || !$0.labeled }
        switch order {
        case .stored: break
        case .leastConfident: rows.sort { $0.confidence != $1.confidence ? $0.confidence < $1.confidence : $0.index < $1.index }
        case .mostConfident: rows.sort { $0.confidence != $1.confidence ? $0.confidence > $1.confidence : $0.index < $1.index }
        }
        let paths = truth?.paths ?? []
        let table: [[LabelTable.Value]] = rows.map { row in
            [.integer(row.index), paths.isEmpty ? .empty : .text(paths[row.index]), .integer(Int(row.label)),
             .text(names?[Int(row.label)] ?? String(row.label)), .number(row.confidence), .flag(row.labeled)]
        }
        try LabelTable.write(["index", "path", "label", "class_name", "confidence", "labeled"], table, to: output, inputs: inputs)
        Console.note("wrote \(output): \(table.count) rows")
    }

    struct Row {
        var index: Int
        var label: Int32
        var confidence: Float
        var labeled: Bool
    }

    /// The rows of a selection (in its order, duplicates kept) or of pseudo-labels (every sample).
    static func readEntries(_ path: String) throws -> (rows: [Row], sampleCount: Int, classCount: Int) {
        let reader = try ArtifactReader(path, expecting: [.selection, .pseudoLabels])
        let isSelection = reader.kind == .selection || (reader.kind == nil && reader.file.exists("/index"))
        reader.file.close()
        if isSelection {
            let selection = try Selection.read(path)
            let rows = selection.index.indices.map {
                Row(index: selection.index[$0], label: selection.labels[$0], confidence: selection.confidence[$0], labeled: $0 < selection.labeledCount)
            }
            return (rows, selection.sampleCount, selection.classCount)
        }
        let pseudo = try PseudoLabels.read(path)
        var isLabeled = [Bool](repeating: false, count: pseudo.count)
        for index in pseudo.labeled { isLabeled[index] = true }
        let rows = (0..<pseudo.count).map { Row(index: $0, label: pseudo.labels[$0], confidence: pseudo.confidence[$0], labeled: isLabeled[$0]) }
        return (rows, pseudo.count, pseudo.classCount)
    }
}

/// `mt-select query`: the next images for a human to label, as a table with empty label columns.
extension ActiveQuery {
    func run(input: String, features: String?, dataset: String?, output: String) throws {
        let inputs = [input] + [features, dataset].compactMap { $0 }
        try OutputPath.check(output, inputs: inputs)
        _ = try LabelTable.format(of: output)
        let pseudo = try PseudoLabels.read(input)
        var embedding: Features?
        if let features {
            embedding = try Features.read(features)
            guard embedding!.count == pseudo.count else {
                throw MTError.badInput(features, "/features", "expected one row per sample of \(input) (\(pseudo.count)), found \(embedding!.count)")
            }
        } else if needsFeatures {
            throw MTError.usage("--by \(strategy.rawValue) needs --features (the features the pseudo-labels were propagated on)")
        }
        let truth = try dataset.map { try TruthLabels.read($0) }
        if let truth, truth.count != pseudo.count {
            throw MTError.badInput(dataset!, "/labels", "expected \(pseudo.count) samples like \(input), found \(truth.count)")
        }
        let (queries, diagnostics) = try select(pseudo, features: embedding?.values, dimension: embedding?.dimension ?? 0)
        Console.report(diagnostics)
        let names = truth.map(\.classNames).flatMap { $0.isEmpty ? nil : $0 }
        let paths = truth?.paths ?? []
        let rows: [[LabelTable.Value]] = queries.map { query in
            [.integer(query.index), paths.isEmpty ? .empty : .text(paths[query.index]), .empty, .empty,
             .integer(Int(query.predicted)), .text(names?[Int(query.predicted)] ?? String(query.predicted)),
             .number(query.confidence), .number(query.margin), .text(query.reason.rawValue)]
        }
        try LabelTable.write(["index", "path", "label", "class_name", "predicted", "predicted_class", "confidence", "margin", "reason"],
                             rows, to: output, inputs: inputs)
        Console.note("wrote \(output): \(queries.count) images to label (\(strategy.rawValue)); fill label or class_name, then: mt-select split DATASET --from-csv \(output)")
    }
}

/// `mt-select split --from-csv`: labels given in a table (a reviewer's corrections, a labelling tool's
/// answers, or `--oracle`: the data set's own labels, for benchmarks) become a split, optionally added to an
/// earlier one.
enum TableSplit {
    static func run(input: String, table path: String, merge: String?, oracle: Bool, output: String) throws {
        let inputs = [input, path] + (merge.map { [$0] } ?? [])
        try OutputPath.check(output, inputs: inputs)
        let truth = try TruthLabels.read(input)
        let (columns, rows) = try LabelTable.read(path)
        guard columns.contains("index") || columns.contains("path") else {
            throw MTError.badInput(path, nil, "expected an index or path column, found \(columns.joined(separator: ","))")
        }
        guard oracle || columns.contains("label") || columns.contains("class_name") else {
            throw MTError.badInput(path, nil, "expected a label or class_name column, found \(columns.joined(separator: ","))")
        }
        if columns.contains("path") && !columns.contains("index") && truth.paths.isEmpty {
            throw MTError.badInput(input, "/paths", "expected image paths to match \(path)'s path column (or give an index column)")
        }
        let pathIndex = Dictionary(truth.paths.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        let nameIndex = Dictionary(truth.classNames.enumerated().map { ($1, Int32($0)) }, uniquingKeysWith: { first, _ in first })

        var given: [Int: Int32] = [:]
        var unanswered = 0
        for (number, row) in rows.enumerated() {
            let line = "row \(number + 1)"
            var index: Int?
            if let text = row["index"], !text.isEmpty {
                guard let value = Int(text), (0..<truth.count).contains(value) else {
                    throw MTError.badInput(path, nil, "\(line): expected an index in 0..<\(truth.count), found '\(text)'")
                }
                index = value
            }
            if let file = row["path"], !file.isEmpty, !truth.paths.isEmpty {
                guard let found = pathIndex[file] else { throw MTError.badInput(path, nil, "\(line): \(file) is not an image of \(input)") }
                if let index, index != found {
                    throw MTError.badInput(path, nil, "\(line): index \(index) is \(truth.paths[index]) in \(input), not \(file)")
                }
                index = found
            }
            guard let index else { throw MTError.badInput(path, nil, "\(line): expected an index or a path") }
            let label: Int32?
            if oracle {
                guard truth.labels[index] >= 0 else { throw MTError.badInput(input, "/labels", "--oracle: sample \(index) has no label") }
                label = truth.labels[index]
            } else {
                label = try parseLabel(row, line: line, path: path, names: nameIndex, classCount: truth.classNames.isEmpty ? nil : truth.classNames.count)
            }
            guard let label else { unanswered += 1; continue }
            if let earlier = given[index], earlier != label {
                throw MTError.badInput(path, nil, "\(line): sample \(index) is labelled \(earlier) earlier in the file and \(label) here")
            }
            given[index] = label
        }
        var labels = given
        var replaced = 0
        if let merge {
            let earlier = try Split.read(merge, sampleCount: truth.count)
            for (index, label) in zip(earlier.labeled, earlier.labeledLabels) {
                if let new = labels[index] { if new != label { replaced += 1 } } else { labels[index] = label }
            }
        }
        guard !labels.isEmpty else { throw MTError.badInput(path, nil, "expected at least one labelled row, found none (\(unanswered) without a label)") }
        let labeled = labels.keys.sorted()
        let classCount = max(truth.classCount, Int(labels.values.max()!) + 1)
        var isLabeled = [Bool](repeating: false, count: truth.count)
        for index in labeled { isLabeled[index] = true }
        let split = Split(labeled: labeled, labeledLabels: labeled.map { labels[$0]! },
                          unlabeled: (0..<truth.count).filter { !isLabeled[$0] }, sampleCount: truth.count, classCount: classCount)
        if unanswered > 0 { Console.note("\(unanswered) rows of \(path) have no label: left unlabelled") }
        if replaced > 0 { Console.warn("\(replaced) labels of \(merge!) were changed by \(path)") }
        var attributes: [String: AttributeValue] = ["from_table": .string(path), "oracle": .int(oracle ? 1 : 0)]
        if let merge { attributes["merged"] = .string(merge) }
        try split.write(output, inputs: inputs, attributes: attributes)
        Console.note("wrote \(output): \(split.labeled.count) labelled (\(given.count) from \(path)), \(split.unlabeled.count) unlabelled")
    }

    /// The row's label from `label` (a number or a class name) and/or `class_name`; nil when both are empty.
    static func parseLabel(_ row: [String: String], line: String, path: String, names: [String: Int32], classCount: Int?) throws -> Int32? {
        func resolve(_ text: String, column: String) throws -> Int32 {
            if let name = names[text] { return name }
            guard let value = Int32(text), value >= 0, classCount.map({ Int(value) < $0 }) ?? true else {
                let known = names.isEmpty ? "a class number" : "one of \(names.keys.sorted().prefix(10).joined(separator: ", "))"
                throw MTError.badInput(path, nil, "\(line): \(column) '\(text)' is not \(known)")
            }
            return value
        }
        let label = try row["label"].flatMap { $0.isEmpty ? nil : try resolve($0, column: "label") }
        let named = try row["class_name"].flatMap { $0.isEmpty ? nil : try resolve($0, column: "class_name") }
        if let label, let named, label != named {
            throw MTError.badInput(path, nil, "\(line): label \(label) and class_name '\(row["class_name"]!)' disagree: edit one, or empty the other")
        }
        return label ?? named
    }
}
