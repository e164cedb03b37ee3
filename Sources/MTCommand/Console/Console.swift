import Foundation
import MTCore

/// Human-facing output on stderr: notes and progress. Results go to stdout or files, never here.
public enum Console {
    /// Bound from `--quiet` for the duration of a command (`CommonOptions.scope`).
    @TaskLocal public static var quiet = false

    /// Whether stderr is a terminal (progress bars only draw there).
    public static let stderrIsTerminal = isatty(STDERR_FILENO) == 1

    /// A one-line note on stderr unless quiet, e.g. where an artifact went.
    public static func note(_ message: String) {
        guard !quiet else { return }
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }

    /// A warning on stderr, shown even when quiet.
    public static func warn(_ message: String) {
        FileHandle.standardError.write(Data(("warning: " + message + "\n").utf8))
    }

    /// Prints what an algorithm reported: its warnings, then its notes.
    public static func report(_ diagnostics: Diagnostics) {
        diagnostics.warnings.forEach(warn)
        diagnostics.notes.forEach(note)
    }
}

/// A progress line on stderr (count, rate, ETA, plus the caller's status such as the loss), redrawn at
/// most ten times a second. `CommonOptions.scope` installs it only when stderr is a terminal and the tool
/// is not quiet, so pipelines and logs stay clean.
final class TerminalProgressLine: ProgressMeter.Display {
    private let label: String
    private let total: Int
    private let unit: String
    private let start = Date()
    private var lastDraw = Date.distantPast

    init(label: String, total: Int, unit: String) {
        self.label = label
        self.total = total
        self.unit = unit
    }

    func update(done: Int, status: String) {
        let now = Date()
        guard now.timeIntervalSince(lastDraw) >= 0.1 || done >= total else { return }
        lastDraw = now
        let elapsed = max(now.timeIntervalSince(start), 1e-9)
        let rate = Double(done) / elapsed
        let remaining = rate > 0 ? Double(total - done) / rate : 0
        let percent = total > 0 ? 100 * done / total : 100
        var line = "\r\(label) \(done)/\(total) (\(percent)%) \(Self.format(rate)) \(unit)/s ETA \(Self.clock(remaining))"
        if !status.isEmpty { line += " " + status }
        FileHandle.standardError.write(Data((line + "\u{1B}[K").utf8))
    }

    func finish() { FileHandle.standardError.write(Data("\n".utf8)) }

    static func format(_ rate: Double) -> String {
        rate >= 100 ? String(Int(rate)) : String(format: "%.1f", rate)
    }

    static func clock(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        return total >= 3600 ? String(format: "%d:%02d:%02d", total / 3600, total / 60 % 60, total % 60)
            : String(format: "%d:%02d", total / 60, total % 60)
    }
}
