import ArgumentParser
import CBLAS
import Foundation
import MTCore
import MTNetwork

/// Flags every tool takes, with the same meaning everywhere.
public struct CommonOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Worker threads for compute (default: all cores). Results do not depend on it.")
    public var threads: Int?

    @Flag(name: [.short, .long], help: "No progress or notes on stderr (errors are still reported).")
    public var quiet = false

    public init() {}

    public mutating func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    /// Runs `body` in the context these flags describe: the thread count of our parallel loops, console
    /// verbosity and the progress display are bound as task-local values for its duration (nothing global
    /// changes, so tests can run tools' code side by side). OpenBLAS's own pool is process-wide; only the
    /// tools set it, once, from here.
    public func scope<R>(_ body: () throws -> R) rethrows -> R {
        let count = threads ?? ProcessInfo.processInfo.activeProcessorCount
        openblas_set_num_threads(Int32(count))
        var display: ProgressMeter.DisplayFactory? = nil
        if !quiet && Console.stderrIsTerminal {
            display = ProgressMeter.DisplayFactory { label, total, unit in TerminalProgressLine(label: label, total: total, unit: unit) }
        }
        return try Parallel.$threadCount.withValue(count) {
            try Console.$quiet.withValue(quiet) {
                try ProgressMeter.$display.withValue(display, operation: body)
            }
        }
    }
}

/// A subcommand of one of the tools: parses `CommonOptions` and does its work in their scope. Conformers
/// implement `execute()`; `run()` is provided.
public protocol ToolCommand: ParsableCommand {
    var common: CommonOptions { get }
    func execute() throws
}

extension ToolCommand {
    public func run() throws { try common.scope { try execute() } }
}

/// `-o/--output FILE`: where a tool writes its artifact (atomically).
public struct OutputOption: ParsableArguments {
    @Option(name: [.short, .long], help: "Output HDF5 file (written to a temporary name, renamed when complete).")
    public var output: String

    public init() {}
}

/// `--seed N`: every random choice of a run follows from it.
public struct SeedOption: ParsableArguments {
    @Option(parsing: .unconditional, help: "Random seed; the same seed and inputs give the same output.")
    public var seed: UInt64 = 0

    public init() {}
}

/// `--shard i/n`: this run computes part i (from 0) of n of the rows; `merge` assembles the parts.
public struct ShardOption: ParsableArguments {
    @Option(help: "Compute only shard i of n of the rows (i from 0, e.g. 2/8); merge the shards with merge.")
    public var shard: Shard?

    public init() {}
}

/// The shard files a `merge` subcommand assembles.
public struct ShardFiles: ParsableArguments {
    @Argument(help: "Shards (from --shard i/n), in any order.") public var shards: [String]

    public init() {}

    public func validate() throws {
        if shards.isEmpty { throw ValidationError("give the shard files") }
    }
}

/// A parsed `i/n`.
public struct Shard: ExpressibleByArgument, Sendable, Equatable {
    public var index: Int
    public var count: Int

    public init?(argument: String) {
        let parts = argument.split(separator: "/")
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]), count >= 1, (0..<count).contains(index) else {
            return nil
        }
        self.index = index
        self.count = count
    }
}

/// `--memory SIZE`: the memory budget of a streaming step.
public struct MemoryOption: ParsableArguments {
    /// What `--memory` is when not given: 1 GiB.
    public static let defaultBudget = ByteCount(bytes: 1 << 30)

    @Option(parsing: .unconditional, help: "Memory budget for data and work buffers, e.g. 512M, 2G.")
    public var memory = MemoryOption.defaultBudget

    public init() {}
}

/// `--resume`: the same in every training subcommand.
public struct ResumeOption: ParsableArguments {
    @Flag(help: "Continue the unfinished run in OUT.partial.h5 beside --output, else the complete --output checkpoint (same options; --epochs/--iterations may grow); start it otherwise.")
    public var resume = false

    public init() {}
}

/// What every classifier-training subcommand (`mt-train classifier`, `mt-train ssl`) starts from: the data
/// set, the split, the checkpoint whose body to start from, a held-out set for the epoch line, `--resume`
/// and the architecture.
public struct ClassifierStartOptions: ParsableArguments {
    @Argument(help: "Training data set (dataset artifact).") var dataset: String
    @Option(help: "Split whose labelled samples to train on.") var split: String?
    @Option(name: .customLong("init"), help: "Checkpoint whose body to start from (a new head is made).") var initFrom: String?
    @Option(name: .customLong("eval"), help: "Data set to report test accuracy on after every epoch.") var evaluation: String?
    @OptionGroup var resume: ResumeOption
    @Option(help: "Architecture: \(Architecture.allCases.map(\.rawValue).joined(separator: ", ")).") var arch: Architecture

    public init() {}

    /// The run's inputs, with the selection whose pseudo-labels join the labelled set.
    func inputs(selection: String?, output: String) -> ClassifierRun.Inputs {
        ClassifierRun.Inputs(dataset: dataset, split: split, selection: selection, initFrom: initFrom, evaluation: evaluation,
                             output: output, resume: resume.resume)
    }
}
