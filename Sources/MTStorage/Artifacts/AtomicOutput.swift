import CHDF5
import Foundation
import MTCore

/// An HDF5 output written under a temporary name in the target's directory and renamed into place only
/// by `commit()`. Until then an existing file at the final path is untouched; if the process fails,
/// throws, or is interrupted (SIGINT, SIGTERM, SIGHUP), the temporary file is removed.
public final class AtomicOutput {
    public let finalPath: String
    public let temporaryPath: String
    public let file: H5File
    private var finished = false

    public init(_ finalPath: String) throws {
        let url = URL(fileURLWithPath: finalPath)
        let directory = url.deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw MTError.badInput(finalPath, nil, "output directory \(directory) does not exist")
        }
        guard !FileManager.default.fileExists(atPath: finalPath, isDirectory: &isDirectory) || !isDirectory.boolValue else {
            throw MTError.badInput(finalPath, nil, "is a directory, expected an output file name")
        }
        self.finalPath = finalPath
        temporaryPath = "\(directory)/.\(url.lastPathComponent).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp"
        TemporaryFiles.register(temporaryPath)
        do {
            file = try H5File.create(temporaryPath)
        } catch {
            TemporaryFiles.unregister(temporaryPath)
            throw error
        }
    }

    /// Closes the file and renames it to the final path (atomically replacing any file there).
    public func commit() throws {
        precondition(!finished, "AtomicOutput committed twice")
        finished = true
        try file.flush()
        file.close()
        defer { TemporaryFiles.unregister(temporaryPath) }
        guard rename(temporaryPath, finalPath) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporaryPath)
            throw MTError.failure("\(finalPath): cannot move output into place: \(reason)")
        }
    }

    /// Drops the output: closes and deletes the temporary file.
    public func discard() {
        guard !finished else { return }
        finished = true
        file.close()
        unlink(temporaryPath)
        TemporaryFiles.unregister(temporaryPath)
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
