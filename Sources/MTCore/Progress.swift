import Foundation

/// Progress of a long step (count, rate, ETA and a status such as the loss). Algorithms report through it;
/// where it goes is the caller's choice: `ProgressMeter.display` is a task-local value that the command layer
/// binds to a terminal line (when stderr is a terminal and the tool is not quiet) and that is silent by
/// default, so library code and tests never print.
public final class ProgressMeter {
    /// Receives the updates of one progress line.
    public protocol Display: AnyObject {
        func update(done: Int, status: String)
        func finish()
    }

    /// Makes the display for a new line from its label, total and unit. (A struct rather than a bare
    /// closure: task-local values of function type crash the runtime when bound outside a task.)
    public struct DisplayFactory: Sendable {
        public let make: @Sendable (_ label: String, _ total: Int, _ unit: String) -> (any Display)?
        public init(_ make: @escaping @Sendable (_ label: String, _ total: Int, _ unit: String) -> (any Display)?) {
            self.make = make
        }
    }

    /// Where progress lines go; nil (the default) draws nothing.
    @TaskLocal public static var display: DisplayFactory? = nil

    public let label: String
    public let total: Int
    private let start = Date()
    private var done = 0
    private let sink: (any Display)?

    public init(_ label: String, total: Int, unit: String = "items") {
        self.label = label
        self.total = total
        sink = Self.display?.make(label, total, unit)
    }

    /// Records `count` more items done; `status` is shown after the counts (e.g. "loss 0.213").
    public func advance(by count: Int = 1, status: String = "") {
        done += count
        sink?.update(done: done, status: status)
    }

    /// Ends the line and returns the elapsed seconds.
    @discardableResult
    public func finish() -> Double {
        sink?.finish()
        return Date().timeIntervalSince(start)
    }
}

/// What an algorithm has to say beside its result: notes (information) and warnings (something the user
/// should act on). The command layer prints them; algorithms never do.
public struct Diagnostics: Sendable, Equatable {
    public var notes: [String] = []
    public var warnings: [String] = []

    public init(notes: [String] = [], warnings: [String] = []) {
        self.notes = notes
        self.warnings = warnings
    }

    public mutating func note(_ message: String) { notes.append(message) }
    public mutating func warn(_ message: String) { warnings.append(message) }
    public mutating func append(_ other: Diagnostics) {
        notes += other.notes
        warnings += other.warnings
    }
}
