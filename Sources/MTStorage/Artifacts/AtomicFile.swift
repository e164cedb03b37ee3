import Foundation
import MTCore

/// Non-HDF5 outputs (JSON reports, PNG pictures) with the same guarantees as `AtomicOutput`: the name is
/// checked against the inputs, the file is written under a temporary name beside the target and renamed
/// into place only when complete and synced; it is removed on failure or on SIGINT/SIGTERM/SIGHUP, so a
/// failed run never leaves a partial file under the final name.
public enum AtomicFile {
    /// Calls `body` with a temporary path to write, then renames it to `path`. Errors that `body` reports
    /// about the temporary file are reported about `path`, the name the user gave.
    public static func write(_ path: String, inputs: [String], _ body: (String) throws -> Void) throws {
        let staged = try StagedOutput(path, inputs: inputs)
        do {
            try body(staged.temporaryPath)
        } catch let error as MTError {
            staged.discard()
            throw MTError(error.kind, error.message.replacingOccurrences(of: staged.temporaryPath, with: path))
        } catch {
            staged.discard()
            throw error
        }
        try staged.commit()
    }

    /// Writes `data` to `path` atomically.
    public static func write(_ path: String, inputs: [String], data: Data) throws {
        try write(path, inputs: inputs) { temporary in
            let descriptor = open(temporary, O_WRONLY | O_TRUNC | O_CLOEXEC)
            guard descriptor >= 0 else { throw MTError.failure("\(path): cannot write the file: \(String(cString: strerror(errno)))") }
            defer { close(descriptor) }
            try data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
                var offset = 0
                while offset < bytes.count {
                    let written = Foundation.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                    if written < 0, errno == EINTR { continue }
                    guard written > 0 else { throw MTError.failure("\(path): cannot write the file: \(String(cString: strerror(errno)))") }
                    offset += written
                }
            }
        }
    }
}
