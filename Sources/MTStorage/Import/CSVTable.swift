import Foundation
import MTCore

/// Comma-separated values as labelling tools write them (RFC 4180): fields optionally in double quotes,
/// `""` inside quotes for a quote, commas and line breaks allowed inside quotes, CRLF or LF line ends.
public struct CSVTable: Sendable, Equatable {
    /// The first row when it is a header (see `read`), else empty.
    public var header: [String]
    public var rows: [[String]]

    public init(header: [String], rows: [[String]]) {
        self.header = header
        self.rows = rows
    }

    /// Reads a CSV file. `hasHeader` says whether the first row names the columns; nil guesses: a first row
    /// is a header when `isData` rejects it (for example, its label column is not a number or known name).
    public static func read(_ path: String, hasHeader: Bool? = nil, isData: ([String]) -> Bool = { _ in true }) throws -> CSVTable {
        guard let data = FileManager.default.contents(atPath: path) else { throw MTError.badInput(path, nil, "cannot read CSV") }
        guard let text = String(data: data, encoding: .utf8) else { throw MTError.badInput(path, nil, "expected UTF-8 text") }
        var rows = try parse(text, path: path)
        var header: [String] = []
        if let first = rows.first, hasHeader ?? !isData(first) {
            header = first
            rows.removeFirst()
        }
        return CSVTable(header: header, rows: rows)
    }

    static func parse(_ text: String, path: String) throws -> [[String]] {
        var rows: [[String]] = [], row: [String] = [], field = ""
        var quoted = false, fieldWasQuoted = false, line = 1
        var characters = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = characters.next()
        if pending == "\u{FEFF}" { pending = characters.next() }   // a byte-order mark some spreadsheets write
        func endRow() {
            row.append(field)
            if !(row.count == 1 && row[0].isEmpty && !fieldWasQuoted) { rows.append(row) }   // blank lines are skipped
            row = []; field = ""; fieldWasQuoted = false
        }
        while let scalar = pending {
            pending = characters.next()
            if quoted {
                if scalar == "\"" {
                    if pending == "\"" { field.unicodeScalars.append("\""); pending = characters.next() } else { quoted = false }
                } else {
                    if scalar == "\n" { line += 1 }
                    field.unicodeScalars.append(scalar)
                }
                continue
            }
            switch scalar {
            case "\"" where field.isEmpty && !fieldWasQuoted: quoted = true; fieldWasQuoted = true
            case "\"": throw MTError.badInput(path, nil, "line \(line): a quote inside an unquoted field")
            case ",": row.append(field); field = ""; fieldWasQuoted = false
            case "\r" where pending == "\n": continue
            case "\n", "\r": endRow(); line += 1
            default: field.unicodeScalars.append(scalar)
            }
        }
        if quoted { throw MTError.badInput(path, nil, "line \(line): a quoted field is not closed") }
        if !field.isEmpty || !row.isEmpty || fieldWasQuoted { endRow() }
        return rows
    }

    /// The text of the table, fields quoted where they need it, LF line ends.
    public func text() -> String {
        var result = ""
        for row in (header.isEmpty ? [] : [header]) + rows {
            result += row.map(Self.quoted).joined(separator: ",") + "\n"
        }
        return result
    }

    static func quoted(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) || field.hasPrefix(" ") || field.hasSuffix(" ") else {
            return field
        }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
