import ArgumentParser
import CMalloc
import Foundation
import MTCore
import MTStorage

/// Runs a tool's root command and maps failures to the toolkit's conventions: one line on stderr
/// prefixed with the tool name; exit 2 for bad input or usage, 1 for internal failures.
///
/// Process-wide settings are made here and only here, once, before any work: the launch time artifacts
/// measure from, and glibc's heap thresholds (`ActivationHeap`).
public enum ToolMain {
    public static func run<Command: ParsableCommand>(_: Command.Type) -> Never {
        _ = Provenance.launchTime
        // Training steps allocate and free the same multi-megabyte activations; by default glibc maps and
        // zero-fills each afresh (10-16% of a step in the kernel). Keeping blocks below 1 GiB in the heap
        // lets it recycle them. A process setting, so the tool makes it, not the library.
        mt_retain_freed_memory(1 << 30)
        let tool = Provenance.current.tool
        do {
            var command = try Command.parseAsRoot()
            try command.run()
            exit(0)
        } catch let error as MTError {
            FileHandle.standardError.write(Data("\(tool): \(error.message)\n".utf8))
            exit(error.exitCode)
        } catch {
            let code = Command.exitCode(for: error)
            if code == .success {
                print(Command.fullMessage(for: error))
                exit(0)
            }
            // Argument errors are usage errors: one line and a pointer to --help, exit 2 as for bad input.
            // Anything else is an internal failure.
            let usage = code == .validationFailure
            let message = usage ? Command.message(for: error) + " (see --help)" : Command.fullMessage(for: error)
            FileHandle.standardError.write(Data("\(tool): \(message)\n".utf8))
            exit(usage ? 2 : code.rawValue)
        }
    }
}
