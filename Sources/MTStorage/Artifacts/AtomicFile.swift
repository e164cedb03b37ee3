import Foundation
import MTCore

/// Non-HDF5 outputs (JSON reports, PNG pictures) with the same guarantee as `AtomicOutput`: written under
/// a temporary name beside the target and renamed into place only when complete; removed on failure or
/// on SIGINT/SIGTERM/SIGHUP, so a failed run never leaves a partial file under the final name.
public enum AtomicFile {
    /// Calls `body` with a temporary path to write, then renames it to `path`.
    public static func write(_ path: String, _ body: (String) throws -> Void) throws {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        guard directoryExists(directory) else {
            throw MTError.badInput(path, nil, "output directory \(directory) does not exist")
        }
        let temporary = "\(directory)/.\(url.lastPathComponent).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp"
        TemporaryFiles.register(temporary)
        defer { TemporaryFiles.unregister(temporary) }
        do {
            try body(temporary)
        } catch {
            unlink(temporary)
            throw error
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw MTError.failure("\(path): cannot move output into place: \(reason)")
        }
    }

    /// Writes `data` to `path` atomically.
    public static func write(_ path: String, data: Data) throws {
        try write(path) { temporary in
            guard FileManager.default.createFile(atPath: temporary, contents: data) else {
                throw MTError.failure("\(path): cannot write (disk full or no permission?)")
            }
        }
    }
}
