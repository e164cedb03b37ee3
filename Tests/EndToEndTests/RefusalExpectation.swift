import MTCore
import MTStorage
import Testing
import TestSupport

/// Runs a built tool that must refuse its input: exit status 2, exactly one line on stderr starting with
/// the tool's name and containing `needle`, nothing on stdout, and the directory left as it was (no
/// output, no temporary file). `output`, when given, is passed as `-o`.
func expectRefused(_ tool: String, _ arguments: [String], in dir: String, output: String? = nil,
                   mentioning needle: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let before = TestSupport.files(in: dir)
    let result = try TestSupport.run(tool, arguments + (output.map { ["-o", $0] } ?? []))
    #expect(result.status == 2, "\(arguments): \(result.stderr)", sourceLocation: sourceLocation)
    #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)", sourceLocation: sourceLocation)
    #expect(result.stderr.hasPrefix("\(tool): "), "\(result.stderr)", sourceLocation: sourceLocation)
    #expect(result.stderr.contains(needle), "\(result.stderr)", sourceLocation: sourceLocation)
    #expect(result.stdout.isEmpty, sourceLocation: sourceLocation)
    #expect(TestSupport.files(in: dir) == before, sourceLocation: sourceLocation)
}
