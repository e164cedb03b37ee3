import CPNG

/// Writing 8-bit PNG files through libpng (the CPNG shim catches libpng's longjmp errors).
public enum PNGIO {
    /// Writes `pixels` (row-major, `channels` interleaved 8-bit samples: 1 gray, 3 RGB, 4 RGBA) to `path`
    /// atomically (temporary name, then rename).
    public static func write(_ path: String, pixels: [UInt8], width: Int, height: Int, channels: Int) throws {
        precondition(pixels.count == width * height * channels)
        try AtomicFile.write(path) { temporary in
            var message = [CChar](repeating: 0, count: 256)
            let status = pixels.withUnsafeBufferPointer { buffer in
                mt_png_write(temporary, buffer.baseAddress, UInt32(width), UInt32(height), UInt32(channels), &message, message.count)
            }
            guard status == 0 else { throw MTError.failure("\(path): cannot write PNG: \(String(cString: message))") }
        }
    }
}
