/// The errors every tool reports as one line on stderr.
///
/// `badInput` and `usage` exit with status 2 (the caller gave something wrong: a missing file, a file of
/// the wrong kind, a dataset of the wrong shape); `failure` exits with status 1 (something went wrong
/// inside mt or the system, e.g. a full disk).
public struct MTError: Error, CustomStringConvertible, Equatable {
    public enum Kind: Sendable { case badInput, usage, failure }
    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
    public var exitCode: Int32 { kind == .failure ? 1 : 2 }

    /// A problem with an input file, optionally inside one of its datasets: `file: /dataset: what`.
    public static func badInput(_ file: String, _ dataset: String? = nil, _ what: String) -> MTError {
        MTError(.badInput, [file, dataset, what].compactMap { $0 }.joined(separator: ": "))
    }

    public static func usage(_ what: String) -> MTError { MTError(.usage, what) }
    public static func failure(_ what: String) -> MTError { MTError(.failure, what) }
}
