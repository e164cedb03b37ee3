import ArgumentParser
import Foundation

/// Runs a tool's root command and maps failures to the toolkit's conventions: one line on stderr
/// prefixed with the tool name; exit 2 for bad input or usage, 1 for internal failures.
public enum ToolMain {
    /// When the tool started; artifacts record the time since as `mt_elapsed_seconds`.
    public static let launchTime = Date()

    public static func run<Command: ParsableCommand>(_: Command.Type) -> Never {
        _ = launchTime
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
