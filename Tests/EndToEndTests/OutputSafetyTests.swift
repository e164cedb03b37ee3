import Foundation
import MTCore
import MTStorage
import Testing
import TestSupport

/// One row of the "Outputs" table of docs/ROBUSTNESS.md. `message` is the one line on stderr after the
/// tool's name, with OUT the output as the user gave it, IN the input it names, KIND the kind of special
/// file, WHAT what was being written, REASON the system's reason (errno text); "none" when the tool
/// succeeds. Each row's test runs the tools against its status and message, and `documentHasExactlyTheseRows`
/// checks the document, so the table and the behaviour cannot drift apart.
struct OutputFault: Sendable {
    var fault: String
    var status: Int32
    var message: String
    var leftOnDisk: String

    var row: String {
        "| \(fault) | \(status) | \(message == "none" ? "none" : "`\(message)`") | \(leftOnDisk) |"
    }

    /// The message with its placeholders filled in.
    func message(_ values: [String: String]) -> String {
        values.reduce(message) { $0.replacingOccurrences(of: $1.key, with: $1.value) }
    }
}

@Suite(.serialized) struct OutputSafetyTests {
    static let outputIsAnInput = OutputFault(
        fault: "An output (`-o`, `--json`, a picture written into `--plot`, a metrics file) is one of the inputs: the same path, another spelling of it, a symbolic or a hard link to it",
        status: 2, message: "OUT: is the input IN; choose another output name",
        leftOnDisk: "Nothing changed: the inputs and every other output as they were, no temporary file")
    static let outputIsNotARegularFile = OutputFault(
        fault: "An output exists and is not a regular file (`-o /dev/null`, a FIFO, a socket, a device)",
        status: 2, message: "OUT: is KIND, not a regular file; choose another output name",
        leftOnDisk: "Nothing changed: the special file stays as it was")
    static let outputsCoincide = OutputFault(
        fault: "Two outputs of one command are the same file (`--json x -o x`, `-o ./x` beside `--json x`, a link to the other)",
        status: 2, message: "OUT: is also the output FIRST of this command; choose distinct output names",
        leftOnDisk: "Nothing written: neither output")
    static let killedWriter = OutputFault(
        fault: "A tool writing an output was killed (SIGKILL) or the machine stopped, leaving its hidden `.NAME.PID.RANDOM.tmp`; later a tool writes the same output",
        status: 0, message: "none",
        leftOnDisk: "The new output; temporaries of that output whose process is gone (`kill(PID, 0)` fails with ESRCH) are deleted, those of live processes and of other outputs are kept")
    static let powerLoss = OutputFault(
        fault: "Power is lost after a tool wrote an output",
        status: 0, message: "none",
        leftOnDisk: "The old file or the complete new one under the final name, never an empty one: the temporary file is fsynced before the rename and its directory after")
    static let unwritableDirectory = OutputFault(
        fault: "The output's directory cannot be written (read-only file system, no permission)",
        status: 1, message: "OUT: cannot create the output: REASON",
        leftOnDisk: "Nothing: no output, no temporary file")
    static let diskFull = OutputFault(
        fault: "The disk fills while an output is written (HDF5 dataset, JSON, PNG)",
        status: 1, message: "OUT: cannot write WHAT: No space left on device",
        leftOnDisk: "The old output unchanged (or none), no temporary file; the tool exits cleanly (no crash in libhdf5)")

    static let cases = [outputIsAnInput, outputIsNotARegularFile, outputsCoincide, killedWriter, powerLoss, unwritableDirectory, diskFull]

    @Test func documentHasExactlyTheseRows() throws {
        let document = try String(contentsOfFile: TestSupport.repositoryRoot + "/docs/ROBUSTNESS.md", encoding: .utf8)
        let section = try #require(document.components(separatedBy: "\n## Outputs\n").dropFirst().first, "no Outputs section")
        let table = section.components(separatedBy: "\n## ").first!.split(separator: "\n").map(String.init)
            .filter { $0.hasPrefix("| ") }.dropFirst()  // the header; the |---| rule does not start with "| "
        #expect(Array(table) == Self.cases.map(\.row))
    }

    // MARK: Inputs

    /// Normalised features with labels (16 rows, two classes), pseudo-labels for 7 samples and their truth,
    /// and a tiny image data set.
    func writeInputs(_ dir: String) throws {
        var values: [Float] = []
        for i in 0..<16 { values += i < 8 ? [1, Float(i) * 0.04] : [Float(i - 8) * 0.04, 1] }
        RowOps.normalize(&values, rows: 16, dimension: 2)
        try Features(values: values, count: 16, dimension: 2, labels: (0..<16).map { Int32($0 < 8 ? 0 : 1) }, model: "test",
                     normalized: true).write(dir + "/f.h5", inputs: [])
        try Features(values: [Float](repeating: 0, count: 14), count: 7, dimension: 2, labels: [0, 0, 1, 1, 0, 1, -1],
                     model: "test", normalized: false).write(dir + "/truth.h5", inputs: [])
        try PseudoLabels(probs: [1, 0, 0.9, 0.1, 0.2, 0.8, 0.95, 0.05, 0.6, 0.4, 0.7, 0.3, 0.01, 0.99],
                         labels: [0, 0, 1, 0, 0, 0, 1], confidence: [1, 0.9, 0.8, 0.95, 0.6, 0.7, 0.99], weights: nil,
                         count: 7, classCount: 2, labeled: [0], labeledLabels: [0], method: "knn")
            .write(dir + "/knn.h5", inputs: [])
        try ImageDataset(images: [UInt8](repeating: 7, count: 2 * 28 * 28), count: 2, height: 28, width: 28, channels: 1,
                         labels: [0, 1], classNames: ["0", "1"], name: "tiny").write(dir + "/images.h5", inputs: [])
    }

    /// The bytes of every regular file under `dir` (one level of subdirectories), by relative path.
    func contents(_ dir: String) throws -> [String: Data] {
        var result: [String: Data] = [:]
        for name in try FileManager.default.subpathsOfDirectory(atPath: dir) {
            var info = stat()
            if lstat(dir + "/" + name, &info) == 0, info.st_mode & S_IFMT == S_IFREG {
                result[name] = try Data(contentsOf: URL(fileURLWithPath: dir + "/" + name))
            }
        }
        return result
    }

    /// Exactly one line on stderr, `tool: ` and then `message`; nothing on stdout; exit `status`.
    func expectOneLine(_ result: ToolResult, _ tool: String, status: Int32, _ message: String,
                       sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.status == status, "\(result.stderr)", sourceLocation: sourceLocation)
        #expect(result.stderr == "\(tool): \(message)\n", sourceLocation: sourceLocation)
        #expect(result.stdout.isEmpty, sourceLocation: sourceLocation)
    }

    // MARK: One test per row

    @Test func anOutputThatIsAnInputIsRefused() throws {
        let row = Self.outputIsAnInput
        try TestSupport.withTemporaryDirectory { dir in
            try writeInputs(dir)
            #expect(symlink("f.h5", dir + "/link.h5") == 0)
            #expect(link(dir + "/f.h5", dir + "/hard.h5") == 0)
            try FileManager.default.createDirectory(atPath: dir + "/plots", withIntermediateDirectories: false)
            #expect(link(dir + "/knn.h5", dir + "/plots/confusion-knn.png") == 0)
            let eval = ["pseudo", dir + "/knn.h5", "--truth", dir + "/truth.h5"]
            let attempts: [(tool: String, arguments: [String], output: String, input: String)] = [
                ("mt-knn", ["graph", dir + "/f.h5", "-k", "2", "-o", dir + "/f.h5"], dir + "/f.h5", dir + "/f.h5"),
                ("mt-knn", ["graph", dir + "/f.h5", "-k", "2", "-o", dir + "/./f.h5"], dir + "/./f.h5", dir + "/f.h5"),
                ("mt-select", ["split", dir + "/f.h5", "--per-class", "1", "-o", dir + "/link.h5"], dir + "/link.h5", dir + "/f.h5"),
                ("mt-select", ["split", dir + "/hard.h5", "--per-class", "1", "-o", dir + "/f.h5"], dir + "/f.h5", dir + "/hard.h5"),
                ("mt-eval", eval + ["--json", dir + "/knn.h5"], dir + "/knn.h5", dir + "/knn.h5"),
                ("mt-eval", eval + ["-o", dir + "/truth.h5"], dir + "/truth.h5", dir + "/truth.h5"),
                // The picture is refused before anything is written, the JSON included.
                ("mt-eval", eval + ["--json", dir + "/e.json", "--plot", dir + "/plots"], dir + "/plots/confusion-knn.png", dir + "/knn.h5"),
                ("mt-train", ["classifier", dir + "/images.h5", "--arch", "mnist-cnn", "--epochs", "1", "--eval", dir + "/truth.h5",
                              "-o", dir + "/truth.h5"], dir + "/truth.h5", dir + "/truth.h5"),
            ]
            let before = try contents(dir)
            for attempt in attempts {
                let result = try TestSupport.run(attempt.tool, attempt.arguments)
                expectOneLine(result, attempt.tool, status: row.status, row.message(["OUT": attempt.output, "IN": attempt.input]))
                #expect(try contents(dir) == before, "\(attempt.arguments)")
                #expect(TestSupport.files(in: dir).allSatisfy { !$0.hasPrefix(".") })
            }
        }
    }

    @Test func twoOutputsOnOneFileAreRefused() throws {
        let row = Self.outputsCoincide
        try TestSupport.withTemporaryDirectory { dir in
            try writeInputs(dir)
            try "old".write(toFile: dir + "/old.json", atomically: true, encoding: .utf8)
            #expect(symlink("old.json", dir + "/other.json") == 0)
            let eval = ["pseudo", dir + "/knn.h5", "--truth", dir + "/truth.h5"]
            let attempts: [(arguments: [String], output: String, first: String)] = [
                (eval + ["--json", dir + "/e.json", "-o", dir + "/e.json"], dir + "/e.json", dir + "/e.json"),
                (eval + ["--json", dir + "/e.json", "-o", dir + "/./e.json"], dir + "/./e.json", dir + "/e.json"),
                (eval + ["--json", dir + "/old.json", "-o", dir + "/other.json"], dir + "/other.json", dir + "/old.json"),
            ]
            let before = try contents(dir)
            for attempt in attempts {
                let result = try TestSupport.run("mt-eval", attempt.arguments)
                expectOneLine(result, "mt-eval", status: row.status, row.message(["OUT": attempt.output, "FIRST": attempt.first]))
                #expect(try contents(dir) == before, "\(attempt.arguments)")
            }
        }
    }

    @Test func anOutputThatIsNotARegularFileIsRefused() throws {
        let row = Self.outputIsNotARegularFile
        try TestSupport.withTemporaryDirectory { dir in
            try writeInputs(dir)
            #expect(mkfifo(dir + "/fifo", 0o644) == 0)
            let device = try TestSupport.run("mt-select", ["split", dir + "/f.h5", "--per-class", "1", "-o", "/dev/null"])
            expectOneLine(device, "mt-select", status: row.status, row.message(["OUT": "/dev/null", "KIND": "a character device"]))
            let fifo = try TestSupport.run("mt-eval", ["pseudo", dir + "/knn.h5", "--truth", dir + "/truth.h5", "--json", dir + "/fifo"])
            expectOneLine(fifo, "mt-eval", status: row.status, row.message(["OUT": dir + "/fifo", "KIND": "a FIFO"]))
            var info = stat()
            #expect(stat("/dev/null", &info) == 0 && info.st_mode & S_IFMT == S_IFCHR)
            #expect(stat(dir + "/fifo", &info) == 0 && info.st_mode & S_IFMT == S_IFIFO)
            #expect(TestSupport.files(in: dir) == ["f.h5", "fifo", "images.h5", "knn.h5", "truth.h5"])
        }
    }

    @Test func temporariesOfDeadProcessesAreRemovedByTheNextWrite() throws {
        let row = Self.killedWriter
        try TestSupport.withTemporaryDirectory { dir in
            try writeInputs(dir)
            // A process that has exited and been reaped: its PID names no process any more.
            let finished = try TestSupport.execute("/bin/sh", ["-c", "echo $$"])
            let dead = try #require(Int32(finished.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
            #expect(kill(dead, 0) != 0 && errno == ESRCH)
            let live = getpid()
            let full = ".s.h5.\(dead).12345.tmp", empty = ".s.h5.\(dead).678.tmp"
            let alive = ".s.h5.\(live).9.tmp", otherOutput = ".t.h5.\(dead).1.tmp"
            try Data(repeating: 1, count: 100_000).write(to: URL(fileURLWithPath: dir + "/" + full))
            for name in [empty, alive, otherOutput] { try Data().write(to: URL(fileURLWithPath: dir + "/" + name)) }
            let result = try TestSupport.run("mt-select", ["split", dir + "/f.h5", "--per-class", "1", "-q", "-o", dir + "/s.h5"])
            #expect(result.status == row.status, "\(result.stderr)")
            #expect(try Split.read(dir + "/s.h5").labeled.count == 2)
            #expect(TestSupport.files(in: dir) == [alive, otherOutput, "f.h5", "images.h5", "knn.h5", "s.h5", "truth.h5"].sorted())
        }
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/strace"), "needs strace to see the system calls"))
    func outputsAreSyncedBeforeAndAfterTheRename() throws {
        let row = Self.powerLoss
        try TestSupport.withTemporaryDirectory { dir in
            try writeInputs(dir)
            let real = URL(fileURLWithPath: dir).resolvingSymlinksInPath().path
            // An HDF5 output (-o) and a plain file (--json).
            let result = try TestSupport.execute("/usr/bin/strace", [
                "-f", "-y", "-e", "trace=fsync,fdatasync,rename,renameat,renameat2", "-o", dir + "/trace.log",
                TestSupport.binDirectory + "/mt-eval", "pseudo", dir + "/knn.h5", "--truth", dir + "/truth.h5",
                "--json", dir + "/e.json", "-o", dir + "/e.h5"])
            #expect(result.status == row.status, "\(result.stderr)")
            let calls = try String(contentsOfFile: dir + "/trace.log", encoding: .utf8).split(separator: "\n").map(String.init)
            for output in ["e.json", "e.h5"] {
                let fileSynced = try #require(calls.firstIndex {
                    $0.contains("fsync(") && $0.contains("<\(real)/.\(output).") && $0.contains(".tmp>")
                }, "\(output): \(calls)")
                let renamed = try #require(calls.firstIndex {
                    $0.contains("rename") && $0.contains("/.\(output).") && $0.contains("\"\(dir)/\(output)\"")
                }, "\(output): \(calls)")
                #expect(fileSynced < renamed, "\(output): \(calls)")
                #expect(calls[(renamed + 1)...].contains { $0.contains("fsync(") && $0.contains("<\(real)>") }, "\(output): \(calls)")
            }
        }
    }

    @Test func anUnwritableDirectoryIsNamedWithTheReason() throws {
        let row = Self.unwritableDirectory
        try TestSupport.withTemporaryDirectory { dir in
            try writeInputs(dir)
            let locked = dir + "/locked"
            try FileManager.default.createDirectory(atPath: locked, withIntermediateDirectories: false)
            // Root may write anywhere, but not to a read-only file system.
            let reason: String
            if getuid() == 0 {
                try mount(["-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", locked])
                reason = "Read-only file system"
            } else {
                #expect(chmod(locked, 0o555) == 0)
                reason = "Permission denied"
            }
            defer { if getuid() == 0 { _ = try? unmount(locked) } else { chmod(locked, 0o755) } }
            let hdf5 = try TestSupport.run("mt-select", ["split", dir + "/f.h5", "--per-class", "1", "-o", locked + "/s.h5"])
            expectOneLine(hdf5, "mt-select", status: row.status, row.message(["OUT": locked + "/s.h5", "REASON": reason]))
            let json = try TestSupport.run("mt-eval", ["pseudo", dir + "/knn.h5", "--truth", dir + "/truth.h5", "--json", locked + "/e.json"])
            expectOneLine(json, "mt-eval", status: row.status, row.message(["OUT": locked + "/e.json", "REASON": reason]))
            #expect(TestSupport.files(in: locked).isEmpty)
        }
    }

    @Test(.enabled(if: getuid() == 0, "needs root to mount a tmpfs"))
    func aFullDiskFailsCleanlyAndKeepsTheOldOutput() throws {
        let row = Self.diskFull
        try TestSupport.withTemporaryDirectory { dir in
            try writeInputs(dir)
            // 2000 random 28x28 images: 1.5 MB that compress to no less, three times what the disk holds.
            let count = 2000
            var generator = SeededGenerator(seed: 1)
            let pixels = (0..<(count * 784)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            func bigEndian(_ words: [UInt32]) -> Data { Data(words.flatMap { withUnsafeBytes(of: $0.bigEndian, Array.init) }) }
            try (bigEndian([0x803, UInt32(count), 28, 28]) + Data(pixels)).write(to: URL(fileURLWithPath: dir + "/images-idx3"))
            try (bigEndian([0x801, UInt32(count)]) + Data((0..<count).map { UInt8($0 % 10) })).write(to: URL(fileURLWithPath: dir + "/labels-idx1"))
            #expect(try TestSupport.run("mt-features", ["import", "mnist", dir + "/images-idx3", dir + "/labels-idx1", "-q",
                                                        "-o", dir + "/big.h5"]).status == 0)

            let small = dir + "/small"
            try FileManager.default.createDirectory(atPath: small, withIntermediateDirectories: false)
            try mount(["-t", "tmpfs", "-o", "size=512k", "tmpfs", small])
            defer { _ = try? unmount(small) }
            try Data("previous".utf8).write(to: URL(fileURLWithPath: small + "/f.h5"))

            let imported = try TestSupport.run("mt-features", ["import", "mnist", dir + "/images-idx3", dir + "/labels-idx1",
                                                               "-o", small + "/d.h5"])
            expectOneLine(imported, "mt-features", status: row.status, row.message(["OUT": small + "/d.h5", "WHAT": "/images"]))
            let extracted = try TestSupport.run("mt-features", ["extract", dir + "/big.h5", "--model", "pixels", "-o", small + "/f.h5"])
            expectOneLine(extracted, "mt-features", status: row.status, row.message(["OUT": small + "/f.h5", "WHAT": "/features"]))
            #expect(TestSupport.files(in: small) == ["f.h5"])
            #expect(try String(contentsOfFile: small + "/f.h5", encoding: .utf8) == "previous")

            // JSON and PNG outputs, on a disk filled to the last byte.
            try FileManager.default.createDirectory(atPath: small + "/plots", withIntermediateDirectories: false)
            let filler = open(small + "/filler", O_WRONLY | O_CREAT, 0o644)
            let block = [UInt8](repeating: 0, count: 4096)
            while write(filler, block, block.count) > 0 {}
            close(filler)
            let eval = ["pseudo", dir + "/knn.h5", "--truth", dir + "/truth.h5"]
            let json = try TestSupport.run("mt-eval", eval + ["--json", small + "/e.json"])
            expectOneLine(json, "mt-eval", status: row.status, row.message(["OUT": small + "/e.json", "WHAT": "the file"]))
            let png = try TestSupport.run("mt-eval", eval + ["--plot", small + "/plots"])
            expectOneLine(png, "mt-eval", status: row.status,
                          row.message(["OUT": small + "/plots/accuracy-coverage.png", "WHAT": "PNG"]))
            #expect(TestSupport.files(in: small) == ["f.h5", "filler", "plots"])
            #expect(TestSupport.files(in: small + "/plots").isEmpty)
        }
    }

    func mount(_ arguments: [String]) throws {
        let result = try TestSupport.execute("/usr/bin/mount", arguments)
        try #require(result.status == 0, "mount \(arguments): \(result.stderr)")
    }

    func unmount(_ path: String) throws {
        let result = try TestSupport.execute("/usr/bin/umount", [path])
        #expect(result.status == 0, "umount \(path): \(result.stderr)")
    }
}
