import Foundation
import MTCore

/// The kinds of file the tools exchange; each has a section in docs/FORMATS.md.
public enum ArtifactKind: String, CaseIterable, Sendable {
    case dataset, features, graph, split, selection, checkpoint, eigen, metrics
    case pseudoLabels = "pseudo-labels"
}

/// The version of the on-disk schema described in docs/FORMATS.md. Readers refuse files with a newer
/// version; a change that old readers would misread increments it.
public let mtFormatVersion = 1

/// How an artifact was made: stored as root attributes so that any file says where it came from.
public struct Provenance: Sendable {
    public var tool: String
    public var command: String

    public init(tool: String, command: String) {
        self.tool = tool
        self.command = command
    }

    /// When the process started (first touched by the command layer at launch); artifacts record the time
    /// since as `mt_elapsed_seconds`.
    public static let launchTime = Date()

    /// The running process: its executable name and its command line, shell-quoted.
    public static var current: Provenance {
        let arguments = CommandLine.arguments
        let tool = URL(fileURLWithPath: arguments.first ?? "mt").lastPathComponent
        return Provenance(tool: tool, command: ([tool] + arguments.dropFirst()).map(shellQuoted).joined(separator: " "))
    }

    static func shellQuoted(_ word: String) -> String {
        let safe = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%")
        if !word.isEmpty, word.unicodeScalars.allSatisfy(safe.contains) { return word }
        return "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

/// Writes one artifact atomically: creates the temporary file, stamps the kind, format version and
/// provenance attributes on `/`, and renames into place on `commit()`.
public final class ArtifactWriter {
    public let kind: ArtifactKind
    private let output: AtomicOutput
    public var file: H5File { output.file }
    public var path: String { output.finalPath }

    /// - Parameter inputs: the files this artifact was computed from (stored as `mt_inputs`).
    public init(_ path: String, kind: ArtifactKind, inputs: [String], provenance: Provenance = .current) throws {
        self.kind = kind
        output = try AtomicOutput(path, inputs: inputs)
        try file.setAttribute("mt_kind", kind.rawValue)
        try file.setAttribute("mt_format_version", mtFormatVersion)
        try file.setAttribute("mt_tool", provenance.tool)
        try file.setAttribute("mt_version", mtVersion)
        try file.setAttribute("mt_command", provenance.command)
        try file.setAttribute("mt_inputs", .strings(inputs))
    }

    /// Stamps the time the tool has run so far (`mt_elapsed_seconds`) and renames the file into place.
    public func commit() throws {
        try file.setAttribute("mt_elapsed_seconds", (Date().timeIntervalSince(Provenance.launchTime) * 1000).rounded() / 1000)
        try output.commit()
    }
}

/// One dimension of an expected shape: a fixed size, or a name that must take the same value in every
/// dataset of the file that uses it (e.g. `N` shared by `/features` and `/labels`).
public enum ShapeDimension: ExpressibleByIntegerLiteral, ExpressibleByStringLiteral, CustomStringConvertible, Sendable {
    case fixed(Int)
    case named(String)

    public init(integerLiteral value: Int) { self = .fixed(value) }
    public init(stringLiteral value: String) { self = .named(value) }

    public var description: String {
        switch self {
        case .fixed(let size): String(size)
        case .named(let name): name
        }
    }
}

/// Opens an artifact and checks it before anything is used: the kind, the format version, and each
/// dataset's class and shape, failing with `file: /dataset: expected ..., found ...`.
///
/// Files made by other programs (h5py, numpy) may omit the `mt_*` attributes; then only the datasets are
/// checked, so a user can hand-write a features file. A file that names another kind is refused.
public final class ArtifactReader {
    public let file: H5File
    public let kind: ArtifactKind?
    public var path: String { file.path }
    /// Sizes bound so far to named dimensions; seeded by the caller to tie files together.
    public var dimensions: [String: Int]

    public init(_ path: String, expecting expected: [ArtifactKind], dimensions: [String: Int] = [:]) throws {
        file = try H5File.open(path)
        self.dimensions = dimensions
        if let stamped = file.stringAttribute("mt_kind") {
            guard let known = ArtifactKind(rawValue: stamped), expected.contains(known) else {
                throw MTError.badInput(path, nil, "expected mt_kind \(expected.map(\.rawValue).joined(separator: " or ")), found '\(stamped)'")
            }
            kind = known
            let version = file.intAttribute("mt_format_version") ?? mtFormatVersion
            guard version <= mtFormatVersion else {
                throw MTError.badInput(path, nil, "format version \(version) is newer than this mt supports (\(mtFormatVersion)); upgrade mt")
            }
        } else {
            kind = nil
        }
    }

    public convenience init(_ path: String, expecting kind: ArtifactKind, dimensions: [String: Int] = [:]) throws {
        try self.init(path, expecting: [kind], dimensions: dimensions)
    }

    /// Reads dataset `name`, checking its element class against `T` and its shape against `shape`.
    public func read<T: H5Element>(_ name: String, as _: T.Type = T.self, shape: [ShapeDimension]) throws -> H5Array<T> {
        let found = try file.info(name)
        try check(name, found, T.dtype, T.isFloatingPoint, shape)
        return try file.read(name, as: T.self)
    }

    /// Like `read`, but nil when the dataset is absent.
    public func readIfPresent<T: H5Element>(_ name: String, as _: T.Type = T.self, shape: [ShapeDimension]) throws -> H5Array<T>? {
        file.exists(name) ? try read(name, as: T.self, shape: shape) : nil
    }

    /// Checks a dataset's class and shape without reading it (for streamed reads); returns its shape.
    @discardableResult
    public func check<T: H5Element>(_ name: String, as _: T.Type, shape: [ShapeDimension]) throws -> [Int] {
        let found = try file.info(name)
        try check(name, found, T.dtype, T.isFloatingPoint, shape)
        return found.shape
    }

    private func check(_ name: String, _ found: H5DatasetInfo, _ dtype: H5DType, _ isFloat: Bool, _ shape: [ShapeDimension]) throws {
        let expected = "\(dtype) [\(shape.map(\.description).joined(separator: ","))]"
        let classMatches = isFloat ? found.isFloat : found.isInteger
        guard classMatches, found.shape.count == shape.count else {
            throw MTError.badInput(path, name, "expected \(expected), found \(found)")
        }
        for (size, dimension) in zip(found.shape, shape) {
            switch dimension {
            case .fixed(let want) where want != size:
                throw MTError.badInput(path, name, "expected \(expected), found \(found)")
            case .named(let label):
                if let bound = dimensions[label], bound != size {
                    throw MTError.badInput(path, name, "expected \(expected) with \(label)=\(bound), found \(found)")
                }
                dimensions[label] = size
            default:
                break
            }
        }
    }

    public func stringAttribute(_ name: String) -> String? { file.stringAttribute(name) }
    public func intAttribute(_ name: String) -> Int? { file.intAttribute(name) }
    public func doubleAttribute(_ name: String) -> Double? { file.doubleAttribute(name) }
}
