import ArgumentParser
import CBLAS
import Foundation

/// Flags every tool takes, with the same meaning everywhere.
public struct CommonOptions: ParsableArguments {
    @Option(help: "Worker threads for compute (default: all cores). Results do not depend on it.")
    public var threads: Int?

    @Flag(name: [.short, .long], help: "No progress or notes on stderr (errors are still reported).")
    public var quiet = false

    public init() {}

    public mutating func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    /// Applies the flags to the process: thread pools (ours and OpenBLAS's) and console verbosity.
    public func apply() {
        let count = threads ?? ProcessInfo.processInfo.activeProcessorCount
        Parallel.threadCount = count
        openblas_set_num_threads(Int32(count))
        Console.quiet = quiet
    }
}

/// `-o/--output FILE`: where a tool writes its artifact (atomically).
public struct OutputOption: ParsableArguments {
    @Option(name: [.short, .long], help: "Output HDF5 file (written to a temporary name, renamed when complete).")
    public var output: String

    public init() {}
}

/// `--seed N`: every random choice of a run follows from it.
public struct SeedOption: ParsableArguments {
    @Option(help: "Random seed; the same seed and inputs give the same output.")
    public var seed: UInt64 = 0

    public init() {}
}
