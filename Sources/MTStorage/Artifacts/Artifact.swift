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

    /// Bytes of whole-dataset reads made through this reader so far, compared with `budget`.
    private var bytesRead = 0

    /// Reads dataset `name`, checking its element class against `T` and its shape against `shape`, and
    /// refusing before it allocates when the declared size would exceed the read budget.
    public func read<T: H5Element>(_ name: String, as _: T.Type = T.self, shape: [ShapeDimension]) throws -> H5Array<T> {
        let found = try file.info(name)
        try check(name, found, T.dtype, T.isFloatingPoint, shape)
        try reserve(found, elementSize: MemoryLayout<T>.stride, for: name)
        return try file.read(name, as: T.self)
    }

    /// HDF5 lets a tiny file declare a dataset of any size (chunks never written read as zeros), so the
    /// declared size is checked against the budget before anything is allocated for it.
    private func reserve(_ found: H5DatasetInfo, elementSize: Int, for name: String) throws {
        var bytes = elementSize, overflow = false
        for size in found.shape where !overflow { (bytes, overflow) = bytes.multipliedReportingOverflow(by: size) }
        if !overflow { (bytes, overflow) = bytesRead.addingReportingOverflow(bytes) }
        let budget = ReadBudget.current ?? ReadBudget.availableMemory()
        if overflow || budget.map({ bytes > $0.bytes }) == true {
            let declared = overflow ? "more than \(Int.max)" : String(bytes - bytesRead)
            throw MTError.badInput(path, name, "declares \(found) = \(declared) bytes, more than \(budget?.description ?? "can be addressed")")
        }
        bytesRead = bytes
    }

    /// Reads a float dataset that feeds arithmetic: any NaN or infinity is refused, naming its row.
    public func readFinite(_ name: String, shape: [ShapeDimension]) throws -> H5Array<Float> {
        let array = try read(name, as: Float.self, shape: shape)
        if let index = array.values.firstIndex(where: { !$0.isFinite }) {
            throw MTError.badInput(path, name, "expected finite values, found \(array.values[index]) in row \(index / max(1, array.rowLength))")
        }
        return array
    }

    /// Like `readFinite`, but nil when the dataset is absent.
    public func readFiniteIfPresent(_ name: String, shape: [ShapeDimension]) throws -> H5Array<Float>? {
        file.exists(name) ? try readFinite(name, shape: shape) : nil
    }

    /// Reads finite values in `range` (e.g. 0...1 for probabilities and confidences).
    public func readFinite(_ name: String, shape: [ShapeDimension], in range: ClosedRange<Float>) throws -> H5Array<Float> {
        let array = try readFinite(name, shape: shape)
        try checkRange(name, array, range)
        return array
    }

    public func readFiniteIfPresent(_ name: String, shape: [ShapeDimension], in range: ClosedRange<Float>) throws -> H5Array<Float>? {
        file.exists(name) ? try readFinite(name, shape: shape, in: range) : nil
    }

    private func checkRange(_ name: String, _ array: H5Array<Float>, _ range: ClosedRange<Float>) throws {
        if let index = array.values.firstIndex(where: { !range.contains($0) }) {
            throw MTError.badInput(path, name, "expected values in \(range.lowerBound)...\(range.upperBound), found \(array.values[index]) in row \(index / max(1, array.rowLength))")
        }
    }

    /// Reads [N, C] class distributions: entries in 0...1, each row summing to 1 (within float rounding).
    public func readDistributions(_ name: String, shape: [ShapeDimension]) throws -> H5Array<Float> {
        let array = try readFinite(name, shape: shape, in: 0...1)
        let width = array.rowLength
        guard width > 0 else { return array }
        for row in 0..<array.rows {
            var sum: Double = 0
            for value in array.values[(row * width)..<((row + 1) * width)] { sum += Double(value) }
            // float32 rounding of C terms stays far below this; a hand-made file off by more is not a distribution.
            guard abs(sum - 1) <= 1e-3 else {
                throw MTError.badInput(path, name, "expected rows summing to 1, found \(Float(sum)) in row \(row)")
            }
        }
        return array
    }

    /// Reads labels under the one rule every tool uses: 0 <= label < `classes`, and -1 (unknown) only where
    /// the format allows it. Labels are read at 64 bits so that a value too large for int32 is refused, not
    /// wrapped. With `classes` nil (the file names no classes) the count is max(label) + 1, at most
    /// `ArtifactReader.inferredClassLimit`; `classCount` of the result says which.
    public func readLabels(_ name: String, shape: [ShapeDimension], classes: Int?, unknownAllowed: Bool) throws -> (labels: [Int32], classCount: Int) {
        try check(name, as: Int32.self, shape: shape)
        let raw = try read(name, as: Int64.self, shape: shape)
        let lowest: Int64 = unknownAllowed ? -1 : 0
        let limit = Int64(classes ?? Self.inferredClassLimit)
        if let bad = raw.values.first(where: { $0 < lowest || $0 >= limit }) {
            let known = classes.map { "\($0) classes" } ?? "at most \(Self.inferredClassLimit) classes when the file names none"
            throw MTError.badInput(path, name, "expected labels in \(lowest)..<\(limit) (\(known)\(unknownAllowed ? ", -1 unknown" : "")), found \(bad)")
        }
        let labels = raw.values.map { Int32($0) }
        return (labels, classes ?? Int((labels.max() ?? -1) + 1))
    }

    /// The most classes a file's labels may imply when it names none (no `/class_names`, no `num_classes`):
    /// one stray large label would otherwise make a problem of that many classes.
    public static let inferredClassLimit = 1 << 16

    /// Reads sample indices in 0..<`count` (`count` nil: any non-negative, the caller bounds them), refusing
    /// repeats when `unique` (a sample listed twice would count or be labelled twice). `stored` is the dtype
    /// the format gives (named in errors); values are read at 64 bits whatever the file's width.
    public func readIndices<Stored: H5Element>(_ name: String, stored _: Stored.Type = Int64.self, shape: [ShapeDimension],
                                               below count: Int?, unique: Bool) throws -> [Int] {
        try check(name, as: Stored.self, shape: shape)
        let raw = try read(name, as: Int64.self, shape: shape)
        let limit = Int64(count ?? Int(Int32.max))
        if let bad = raw.values.first(where: { $0 < 0 || $0 >= limit }) {
            throw MTError.badInput(path, name, "expected indices in 0..<\(limit), found \(bad)")
        }
        let indices = raw.values.map { Int($0) }
        if unique, let repeated = Self.firstRepeat(indices) {
            throw MTError.badInput(path, name, "expected distinct indices, found \(repeated) more than once")
        }
        return indices
    }

    /// The first value of `values` that occurs again later (nil when all are distinct).
    static func firstRepeat(_ values: [Int]) -> Int? {
        var seen = Set<Int>(minimumCapacity: values.count)
        for value in values where !seen.insert(value).inserted { return value }
        return nil
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
        try bindDimensions(name, found, expected, shape)
    }

    /// Checks `found`'s sizes against the fixed dimensions of `shape` and binds (or checks) its named ones.
    private func bindDimensions(_ name: String, _ found: H5DatasetInfo, _ expected: String, _ shape: [ShapeDimension]) throws {
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

    /// `/class_names` when the file has it, else empty.
    public func classNames() throws -> [String] {
        guard file.exists("/class_names") else { return [] }
        // A dimension of its own: "C" means channels in a dataset file and classes elsewhere.
        return try readStrings("/class_names", shape: ["class_names"])
    }

    /// Reads a string dataset of `shape`, checked and bound as numeric ones are.
    public func readStrings(_ name: String, shape: [ShapeDimension]) throws -> [String] {
        let found = try file.info(name)
        let expected = "string [\(shape.map(\.description).joined(separator: ","))]"
        guard found.isString, found.shape.count == shape.count else {
            throw MTError.badInput(path, name, "expected \(expected), found \(found)")
        }
        try bindDimensions(name, found, expected, shape)
        // Charged at a pointer and a short text per entry: the declared count is what could be huge.
        try reserve(found, elementSize: 64, for: name)
        return try file.readStrings(name)
    }

    public func stringAttribute(_ name: String) -> String? { file.stringAttribute(name) }
    public func intAttribute(_ name: String) -> Int? { file.intAttribute(name) }
    public func doubleAttribute(_ name: String) -> Double? { file.doubleAttribute(name) }
}

/// How many bytes an `ArtifactReader` may read into memory, and the flag that sets it (named in the refusal).
public struct ReadBudget: Sendable, CustomStringConvertible {
    public var bytes: Int
    /// The option that raises it (`--memory`), or nil when it is the machine's available memory.
    public var flag: String?

    public init(bytes: Int, flag: String?) {
        self.bytes = bytes
        self.flag = flag
    }

    /// The budget of the current command: bound by tools that have `--memory`; nil means the available memory.
    @TaskLocal public static var current: ReadBudget? = nil

    /// The machine's available memory (`MemAvailable` of /proc/meminfo); nil where there is none to read.
    public static func availableMemory() -> ReadBudget? {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("MemAvailable:") }),
              let kib = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else { return nil }
        return ReadBudget(bytes: kib * 1024, flag: nil)
    }

    public var description: String {
        if let flag { return "the \(flag) budget of \(bytes) bytes (raise \(flag) if the file is right)" }
        return "the \(bytes) bytes of memory available (MemAvailable in /proc/meminfo)"
    }
}
