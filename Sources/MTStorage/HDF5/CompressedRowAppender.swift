import CZlib
import MTCore

/// Appends uint8 rows to a new extendable, gzip-compressed dataset one chunk at a time. Compression is the
/// expensive part of writing images (a third of an import's time in zlib when HDF5's filter did it on the
/// writing thread), so chunks are compressed here on every core, in the deflate filter's own format (a zlib
/// stream; shuffling one-byte elements is the identity), and HDF5 only stores the finished bytes, on the
/// calling thread. The file is the same as `appendRows` with `H5Layout(chunkRows:deflate:)` would write,
/// except that a chunk deflate cannot shrink is stored as it is, flagged in its filter mask (HDF5's own
/// per-chunk "filters skipped" bits, which every reader, h5py included, honours): photos' pixels gain
/// about nothing from deflate, and compressing them anyway was most of an import's time.
public final class CompressedRowAppender {
    /// A chunk whose first `probeBytes` deflate (level 1) to more than `incompressible` of their size is
    /// stored raw: the probe costs about 1/16 of compressing a 1 MiB chunk.
    static let probeBytes = 1 << 16
    static let incompressible = 0.95

    public let name: String
    public let chunkRows: Int
    public private(set) var rowCount = 0
    private let file: H5File
    private let rowSize: Int
    private let level: Int32
    /// Rows not yet stored: fewer than a chunk between calls.
    private var pending: [UInt8] = []

    public init(file: H5File, name: String, rowShape: [Int], chunkRows: Int, level: Int = 4) throws {
        precondition(chunkRows >= 1 && (1...9).contains(level))
        self.file = file
        self.name = name
        self.chunkRows = chunkRows
        self.rowSize = rowShape.reduce(1, *)
        self.level = Int32(level)
        try file.createDataset(name, of: UInt8.self, shape: [0] + rowShape,
                               layout: H5Layout(chunkRows: chunkRows, deflate: level, extendable: true))
    }

    /// Adds `rows` rows; whole chunks are compressed (in parallel) and stored.
    public func append(_ values: UnsafeBufferPointer<UInt8>, rows: Int) throws {
        precondition(values.count == rows * rowSize)
        pending.append(contentsOf: values)
        let chunks = pending.count / (chunkRows * rowSize)
        guard chunks > 0 else { return }
        try store(chunks: chunks, rows: chunks * chunkRows)
        pending.removeFirst(chunks * chunkRows * rowSize)
    }

    /// Stores the last, partial chunk (padded with zeros past the extent, as HDF5 stores edge chunks).
    public func finish() throws {
        guard !pending.isEmpty else { return }
        let rows = pending.count / rowSize
        pending.append(contentsOf: repeatElement(0, count: (chunkRows - rows) * rowSize))
        try store(chunks: 1, rows: rows)
        pending = []
    }

    private func store(chunks: Int, rows: Int) throws {
        let chunkBytes = chunkRows * rowSize
        // nil: store the chunk raw (incompressible).
        var compressed = [[UInt8]?](repeating: nil, count: chunks)
        var failed = [Bool](repeating: false, count: chunks)
        let level = self.level
        pending.withUnsafeBufferPointer { source in
            compressed.withUnsafeMutableBufferPointer { output in
                failed.withUnsafeMutableBufferPointer { failures in
                    let shared = UncheckedSendable((source, output, failures))
                    Parallel.forEachTask(chunks) { chunk in
                        let start = shared.value.0.baseAddress! + chunk * chunkBytes
                        let probe = min(chunkBytes, Self.probeBytes)
                        var size = compressBound(UInt(chunkBytes))
                        var buffer = [UInt8](unsafeUninitializedCapacity: Int(size)) { _, count in count = Int(size) }
                        var probeSize = size
                        if compress2(&buffer, &probeSize, start, UInt(probe), 1) == Z_OK,
                           Double(probeSize) > Self.incompressible * Double(probe) {
                            return
                        }
                        let status = compress2(&buffer, &size, start, UInt(chunkBytes), level)
                        buffer.removeLast(buffer.count - Int(size))
                        shared.value.1[chunk] = buffer
                        shared.value.2[chunk] = status != Z_OK
                    }
                }
            }
        }
        if failed.contains(true) { throw MTError.failure("\(file.path): \(name): zlib could not compress a chunk") }
        try file.setRowCount(name, rowCount + rows)
        try pending.withUnsafeBytes { raw in
            for (chunk, bytes) in compressed.enumerated() {
                let row = rowCount + chunk * chunkRows
                if let bytes {
                    try bytes.withUnsafeBytes { try file.writeFilteredChunk(name, row: row, $0) }
                } else {
                    // Both filters skipped (shuffle of one-byte elements is the identity anyway).
                    try file.writeFilteredChunk(name, row: row, UnsafeRawBufferPointer(rebasing: raw[chunk * chunkBytes..<(chunk + 1) * chunkBytes]),
                                                filtersSkipped: 0b11)
                }
            }
        }
        rowCount += rows
    }
}
