import CZlib
import MTCore

/// Reads a whole file that may or may not be gzip-compressed (zlib reads plain files transparently).
/// A truncated or corrupt gzip stream is an error, not a short result.
public func readPossiblyGzipped(_ path: String) throws -> [UInt8] {
    guard let handle = gzopen(path, "rb") else { throw MTError.badInput(path, nil, "cannot open file") }
    defer { gzclose(handle) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 20)
    while true {
        let read = chunk.withUnsafeMutableBytes { gzread(handle, $0.baseAddress, UInt32($0.count)) }
        if read < 0 { break }
        if read == 0 { break }
        bytes.append(contentsOf: chunk[0..<Int(read)])
    }
    var code: Int32 = 0
    let message = gzerror(handle, &code).map { String(cString: $0) } ?? ""
    guard code == Z_OK || code == Z_STREAM_END else {
        throw MTError.badInput(path, nil, "truncated or corrupt gzip data (\(message))")
    }
    return bytes
}
