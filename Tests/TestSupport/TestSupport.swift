import Foundation
import Testing
import MTCore
import MTStorage

/// Locations and helpers shared by the unit and end-to-end tests.
public enum TestSupport {
    /// The repository root (two levels above this file's folder).
    public static let repositoryRoot: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// The real MNIST idx files: `MNIST_DIR`, else `../shared/datasets/mnist` beside the repository.
    /// Tests that need them are disabled, with the reason shown, when this is nil (`.needsMNIST`).
    public static let mnistDirectory: String? = {
        let candidates = [ProcessInfo.processInfo.environment["MNIST_DIR"],
                          repositoryRoot + "/../shared/datasets/mnist"].compactMap { $0 }
        return candidates.first { FileManager.default.fileExists(atPath: $0 + "/train-images-idx3-ubyte.gz") }
    }()

    /// The first `count` MNIST training images; fails the test without MNIST (tests that call it are
    /// `.needsMNIST`).
    public static func mnistTrain(limit count: Int) throws -> ImageDataset {
        let directory = try #require(mnistDirectory, "MNIST not found (set MNIST_DIR or place it in ../shared/datasets/mnist)")
        let files = try MNISTImporter.standardFiles(directory: directory, split: "train")
        return try MNISTImporter.load(images: files.images, labels: files.labels, limit: count, name: "mnist-train")
    }

    /// A fresh, empty directory, removed by `removeTemporaryDirectory`.
    public static func makeTemporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "mt-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    public static func removeTemporaryDirectory(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Runs `body` with a temporary directory that is removed afterwards.
    public static func withTemporaryDirectory<R>(_ body: (String) throws -> R) throws -> R {
        let directory = try makeTemporaryDirectory()
        defer { removeTemporaryDirectory(directory) }
        return try body(directory)
    }

    /// Names of the regular files in a directory (hidden ones included: temporaries must not linger).
    public static func files(in directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
    }
}

/// The outcome of running one of the built tools.
public struct ToolResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

extension TestSupport {
    /// Where the built executables are: `MT_BIN_DIR`, else beside the running test bundle, else the
    /// package's release or debug build folder.
    public static let binDirectory: String = {
        var candidates: [String] = []
        if let explicit = ProcessInfo.processInfo.environment["MT_BIN_DIR"] { candidates.append(explicit) }
        candidates.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path)
        candidates += [repositoryRoot + "/.build/release", repositoryRoot + "/.build/debug"]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0 + "/mt-features") } ?? candidates[0]
    }()

    /// Runs a built tool with `arguments` and returns its exit status and output.
    @discardableResult
    public static func run(_ tool: String, _ arguments: [String], environment: [String: String] = [:]) throws -> ToolResult {
        try execute(binDirectory + "/" + tool, arguments, environment: environment)
    }

    /// Runs an executable and collects its exit status and output.
    public static func execute(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws -> ToolResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Drain stderr on another thread while reading stdout, so neither pipe can fill and block the tool.
        nonisolated(unsafe) var errData = Data()
        let drained = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            errData = err.fileHandleForReading.readDataToEndOfFile()
            drained.signal()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        drained.wait()
        process.waitUntilExit()
        return ToolResult(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                          stderr: String(decoding: errData, as: UTF8.self))
    }
}

extension TestSupport {
    /// A Python with h5py and numpy: `MT_PYTHON`, else the repository's `.venv` (made by `make python`),
    /// else `python3`. Nil when none can import h5py (tests that need it are `.needsPython`).
    public static let pythonWithH5py: String? = {
        let environment = ProcessInfo.processInfo.environment
        let candidates = [environment["MT_PYTHON"], repositoryRoot + "/.venv/bin/python", "/usr/bin/python3"].compactMap { $0 }
        for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate) {
            if let result = try? runPython(candidate, "import h5py, numpy"), result.status == 0 { return candidate }
        }
        return nil
    }()

    /// A Python with torch and h5py, found as `pythonWithH5py` is (tests that need it are `.needsTorch`).
    public static let pythonWithTorch: String? = {
        guard let python = pythonWithH5py, let result = try? runPython(python, "import torch, h5py"), result.status == 0 else { return nil }
        return python
    }()

    /// A Python with scikit-learn, found as `pythonWithH5py` is (the clustering metrics' reference; `.needsScikitLearn`).
    public static let pythonWithScikitLearn: String? = {
        guard let python = pythonWithH5py, let result = try? runPython(python, "import sklearn, scipy"), result.status == 0 else { return nil }
        return python
    }()

    /// A Python with Pillow, found as `pythonWithH5py` is (the resizing reference; `.needsPillow`).
    public static let pythonWithPillow: String? = {
        guard let python = pythonWithH5py, let result = try? runPython(python, "import PIL.Image"), result.status == 0 else { return nil }
        return python
    }()

    /// Runs a Python script given as text.
    public static func runPython(_ python: String, _ script: String) throws -> ToolResult {
        try execute(python, ["-c", script])
    }
}

extension TestSupport {
    /// Whether an executable of that name is on PATH.
    public static func onPath(_ name: String) -> Bool {
        (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
            .contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(name)") }
            || FileManager.default.isExecutableFile(atPath: "/usr/sbin/\(name)")
    }
}

/// Conditions of tests that need something the repository cannot ship. A disabled test is listed as
/// skipped with its reason; `make test` provides all of them, so CI shows none skipped.
extension Trait where Self == ConditionTrait {
    public static var needsMNIST: Self {
        .enabled(if: TestSupport.mnistDirectory != nil, "needs MNIST: set MNIST_DIR or place it in ../shared/datasets/mnist")
    }

    public static var needsPython: Self {
        .enabled(if: TestSupport.pythonWithH5py != nil, "needs a Python with h5py and numpy: run `make python` or set MT_PYTHON")
    }

    public static var needsTorch: Self {
        .enabled(if: TestSupport.pythonWithTorch != nil, "needs a Python with torch and h5py: run `make python` or set MT_PYTHON")
    }

    public static var needsPillow: Self {
        .enabled(if: TestSupport.pythonWithPillow != nil, "needs a Python with Pillow: run `make python` or set MT_PYTHON")
    }

    /// Root and Debian's slurm-wlm: the test starts its own one-node cluster (pipelines/tools/slurm-local.sh).
    public static var needsSlurm: Self {
        .enabled(if: getuid() == 0 && ["munged", "slurmctld", "slurmd", "sbatch"].allSatisfy(TestSupport.onPath),
                 "needs root and Debian's slurm-wlm (munge, slurmctld, slurmd): `make setup` installs it")
    }

    public static var needsScikitLearn: Self {
        .enabled(if: TestSupport.pythonWithScikitLearn != nil, "needs a Python with scikit-learn: run `make python` or set MT_PYTHON")
    }
}
