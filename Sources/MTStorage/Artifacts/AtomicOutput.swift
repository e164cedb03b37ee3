import CHDF5
import Foundation
import MTCore

/// The checks made on an output name before anything is written to it, so that writing cannot destroy
/// what is there: the directory must exist, an existing file must be a regular file (`-o /dev/null` would
/// otherwise replace the device node), and it must not be one of the inputs (compared by device and
/// inode, so `./f.h5`, a symbolic link or a hard link to an input are caught too).
public enum OutputPath {
    public static func check(_ path: String, inputs: [String]) throws {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        guard directoryExists(directory) else {
            throw MTError.badInput(path, nil, "output directory \(directory) does not exist")
        }
        var target = stat()
        // Nothing there (or a dangling link, which the rename replaces): nothing to protect.
        guard stat(path, &target) == 0 else { return }
        switch target.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: throw MTError.badInput(path, nil, "is a directory, expected an output file name")
        case let type: throw MTError.badInput(path, nil, "is \(describe(type)), not a regular file; choose another output name")
        }
        for input in inputs {
            var source = stat()
            if stat(input, &source) == 0, source.st_dev == target.st_dev, source.st_ino == target.st_ino {
                throw MTError.badInput(path, nil, "is the input \(input); choose another output name")
            }
        }
    }

    /// Checks every output of one command (`check`), and that no two of them are the same file: the same
    /// path once the directory's symbolic links are resolved, or an existing file reached twice (device and
    /// inode). Two outputs on one file would leave only the one renamed last.
    public static func check(outputs: [String], inputs: [String]) throws {
        for path in outputs { try check(path, inputs: inputs) }
        func identity(_ path: String) -> String {
            var status = stat()
            if stat(path, &status) == 0 { return "inode \(status.st_dev):\(status.st_ino)" }
            let url = URL(fileURLWithPath: path)
            return url.deletingLastPathComponent().resolvingSymlinksInPath().appendingPathComponent(url.lastPathComponent).standardized.path
        }
        var seen: [String: String] = [:]
        for path in outputs {
            let key = identity(path)
            if let first = seen[key] {
                throw MTError.badInput(path, nil, "is also the output \(first) of this command; choose distinct output names")
            }
            seen[key] = path
        }
    }

    private static func describe(_ type: mode_t) -> String {
        switch type {
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        case S_IFIFO: "a FIFO"
        case S_IFSOCK: "a socket"
        default: "a special file"
        }
    }

    /// The hidden temporary names an output is written under: `.NAME.PID.RANDOM.tmp` beside it.
    static func temporaryName(for path: String) -> String {
        let url = URL(fileURLWithPath: path)
        return "\(url.deletingLastPathComponent().path)/.\(url.lastPathComponent).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp"
    }

    /// Deletes temporaries of `path` left by processes that no longer exist (killed with SIGKILL, or a
    /// machine that went down): nothing else would ever remove them. A live process's are kept.
    static func removeStaleTemporaries(of path: String) {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        let prefix = "." + url.lastPathComponent + "."
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        for entry in entries where entry.hasPrefix(prefix) && entry.hasSuffix(".tmp") {
            let fields = entry.dropFirst(prefix.count).dropLast(4).split(separator: ".", omittingEmptySubsequences: false)
            guard fields.count == 2, fields[1].allSatisfy(\.isASCII), UInt32(fields[1]) != nil,
                  let pid = pid_t(fields[0]), pid > 0, pid != getpid() else { continue }
            if kill(pid, 0) != 0, errno == ESRCH { unlink(directory + "/" + entry) }
        }
    }
}

/// One output being written: its final name and the temporary file beside it that holds it until
/// `commit()` moves it into place. Shared by `AtomicOutput` (HDF5) and `AtomicFile` (JSON, PNG).
final class StagedOutput {
    let finalPath: String
    let temporaryPath: String
    private var finished = false

    /// Checks the name (`OutputPath.check`), clears stale temporaries of it and creates the temporary file
    /// (empty), so that a directory one cannot write to fails here naming `finalPath` and the reason.
    init(_ finalPath: String, inputs: [String]) throws {
        try OutputPath.check(finalPath, inputs: inputs)
        OutputPath.removeStaleTemporaries(of: finalPath)
        self.finalPath = finalPath
        temporaryPath = OutputPath.temporaryName(for: finalPath)
        TemporaryFiles.register(temporaryPath)
        let descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            let reason = String(cString: strerror(errno))
            TemporaryFiles.unregister(temporaryPath)
            finished = true
            throw MTError.failure("\(finalPath): cannot create the output: \(reason)")
        }
        close(descriptor)
    }

    /// Makes the temporary durable, renames it to the final path (atomically replacing any file there)
    /// and makes the rename durable: without both fsyncs a power loss can leave an empty file under the
    /// final name.
    func commit() throws {
        precondition(!finished, "output committed twice")
        do {
            try Self.sync(temporaryPath, directory: false)
            guard rename(temporaryPath, finalPath) == 0 else { throw Self.systemError("cannot move the output into place") }
        } catch let error as SystemError {
            discard()
            throw MTError.failure("\(finalPath): \(error.what): \(error.reason)")
        }
        finished = true
        TemporaryFiles.unregister(temporaryPath)
        do {
            try Self.sync(URL(fileURLWithPath: finalPath).deletingLastPathComponent().path, directory: true)
        } catch let error as SystemError {
            throw MTError.failure("\(finalPath): written, but \(error.what): \(error.reason)")
        }
    }

    /// Deletes the temporary file.
    func discard() {
        guard !finished else { return }
        finished = true
        unlink(temporaryPath)
        TemporaryFiles.unregister(temporaryPath)
    }

    deinit { discard() }

    private struct SystemError: Error {
        var what: String
        var reason: String
    }

    private static func systemError(_ what: String) -> SystemError {
        SystemError(what: what, reason: String(cString: strerror(errno)))
    }

    private static func sync(_ path: String, directory: Bool) throws {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | (directory ? O_DIRECTORY : 0))
        guard descriptor >= 0 else { throw systemError("cannot open \(directory ? "its directory" : "the output") to sync it") }
        defer { close(descriptor) }
        // Some file systems cannot sync a directory (EINVAL); the rename is then as durable as they allow.
        guard fsync(descriptor) == 0 || (directory && errno == EINVAL) else {
            throw systemError(directory ? "cannot sync its directory" : "cannot write the output")
        }
    }
}

/// An HDF5 output written under a temporary name in the target's directory and renamed into place only
/// by `commit()`. Until then an existing file at the final path is untouched; if the process fails,
/// throws, or is interrupted (SIGINT, SIGTERM, SIGHUP), the temporary file is removed. The name is
/// checked first (`OutputPath.check`: not an input, not a device); errors name the final path.
public final class AtomicOutput {
    private let staged: StagedOutput
    public let file: H5File
    private var finished = false
    public var finalPath: String { staged.finalPath }
    public var temporaryPath: String { staged.temporaryPath }

    /// - Parameter inputs: the files the output is computed from; naming one of them as the output is refused.
    public init(_ finalPath: String, inputs: [String]) throws {
        staged = try StagedOutput(finalPath, inputs: inputs)
        file = try H5File.create(staged.temporaryPath, reportingAs: finalPath)
    }

    /// Closes the file (failing if HDF5 could not write all of it) and moves it into place.
    public func commit() throws {
        precondition(!finished, "AtomicOutput committed twice")
        do {
            try file.closeWritten()
        } catch {
            discard()
            throw error
        }
        finished = true
        try staged.commit()
    }

    /// Drops the output: closes and deletes the temporary file.
    public func discard() {
        guard !finished else { return }
        finished = true
        file.closeDiscarding()
        staged.discard()
    }

    deinit { discard() }
}

/// Temporary output paths to delete if a signal ends the process before they are committed.
enum TemporaryFiles {
    private static let capacity = 64
    // Signal handlers may only touch plain memory: C strings in a fixed table, guarded by a lock outside
    // the handler. A handler racing with register/unregister at worst misses or repeats one unlink.
    nonisolated(unsafe) private static var paths = [UnsafeMutablePointer<CChar>?](repeating: nil, count: capacity)
    nonisolated(unsafe) private static var installed = false
    private static let lock = NSLock()

    static func register(_ path: String) {
        lock.lock()
        defer { lock.unlock() }
        installHandlers()
        if let slot = paths.firstIndex(where: { $0 == nil }) { paths[slot] = strdup(path) }
    }

    static func unregister(_ path: String) {
        lock.lock()
        defer { lock.unlock() }
        for slot in paths.indices where paths[slot].map({ String(cString: $0) == path }) ?? false {
            free(paths[slot])
            paths[slot] = nil
        }
    }

    private static func installHandlers() {
        guard !installed else { return }
        installed = true
        // A parent may have spawned us with these signals blocked (test runners do); unblock them on this
        // thread so an interrupt reaches the handler instead of waiting until exit.
        var unblock = sigset_t()
        sigemptyset(&unblock)
        for signalNumber in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&unblock, signalNumber) }
        pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
        for signalNumber in [SIGINT, SIGTERM, SIGHUP] {
            signal(signalNumber) { received in
                TemporaryFiles.removeAll()
                signal(received, SIG_DFL)
                raise(received)
            }
        }
    }

    private static func removeAll() {
        for slot in 0..<capacity { if let path = paths[slot] { unlink(path) } }
    }
}
