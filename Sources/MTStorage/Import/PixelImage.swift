import CJPEG
import CPNG
import Foundation
import MTCore

/// An 8-bit image: row-major pixels with interleaved channels (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA).
public struct PixelImage: Sendable {
    public var pixels: [UInt8]
    public var width: Int
    public var height: Int
    public var channels: Int

    public init(pixels: [UInt8], width: Int, height: Int, channels: Int) {
        precondition(pixels.count == width * height * channels)
        self.pixels = pixels
        self.width = width
        self.height = height
        self.channels = channels
    }

    /// Decodes a PNG or JPEG file, told apart by its first bytes (not its name).
    public static func read(_ path: String) throws -> PixelImage {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw MTError.badInput(path, nil, "cannot open image") }
        defer { try? handle.close() }
        let magic = (try? handle.read(upToCount: 8)) ?? Data()
        switch ImageFileFormat(magic: magic) {
        case .png: return try readPNG(path)
        case .jpeg:
            try handle.seek(toOffset: 0)
            return try readJPEG(try handle.readToEnd() ?? Data(), path: path)
        case nil: throw MTError.badInput(path, nil, "expected a PNG or JPEG image, found neither signature")
        }
    }

    /// Decodes JPEG bytes (gray or colour; CMYK refused) with libjpeg-turbo; `path` names them in errors.
    public static func readJPEG(_ data: Data, path: String) throws -> PixelImage {
        var pixels: UnsafeMutablePointer<UInt8>?
        var width: UInt32 = 0, height: UInt32 = 0, channels: UInt32 = 0
        var message = [CChar](repeating: 0, count: 256)
        let status = data.withUnsafeBytes { bytes in
            mt_jpeg_read(bytes.bindMemory(to: UInt8.self).baseAddress, bytes.count, &pixels, &width, &height, &channels,
                         &message, message.count)
        }
        guard status == 0, let pixels else { throw MTError.badInput(path, nil, "cannot decode JPEG: \(cString(message))") }
        defer { mt_jpeg_free(pixels) }
        let count = Int(width) * Int(height) * Int(channels)
        return PixelImage(pixels: Array(UnsafeBufferPointer(start: pixels, count: count)),
                          width: Int(width), height: Int(height), channels: Int(channels))
    }

    /// Encodes to a baseline JPEG file (1 gray, 3 RGB; 4 is written as CMYK). Not atomic, as `writePNG`.
    public func writeJPEG(_ path: String, quality: Int = 95) throws {
        var message = [CChar](repeating: 0, count: 256)
        let status = mt_jpeg_write(path, pixels, UInt32(width), UInt32(height), UInt32(channels), Int32(quality), &message, message.count)
        guard status == 0 else { throw MTError.failure("\(path): cannot write JPEG: \(cString(message))") }
    }

    /// Decodes any PNG (bit depth, palette, gray, RGB, alpha) to 8 bits per channel with libpng.
    public static func readPNG(_ path: String) throws -> PixelImage {
        var data: UnsafeMutablePointer<UInt8>?
        var width: UInt32 = 0, height: UInt32 = 0, channels: UInt32 = 0
        var message = [CChar](repeating: 0, count: 256)
        let status = mt_png_read(path, &data, &width, &height, &channels, &message, message.count)
        guard status == 0, let data else {
            throw MTError.badInput(path, nil, "cannot decode PNG: \(cString(message))")
        }
        defer { mt_png_free(data) }
        let count = Int(width) * Int(height) * Int(channels)
        return PixelImage(pixels: Array(UnsafeBufferPointer(start: data, count: count)),
                        width: Int(width), height: Int(height), channels: Int(channels))
    }

    /// Encodes to a PNG file (not atomic: callers writing final outputs write to a temporary name first).
    public func writePNG(_ path: String) throws {
        var message = [CChar](repeating: 0, count: 256)
        let status = mt_png_write(path, pixels, UInt32(width), UInt32(height), UInt32(channels), &message, message.count)
        guard status == 0 else { throw MTError.failure("\(path): cannot write PNG: \(cString(message))") }
    }

    /// The same image with `count` channels (1 gray or 3 RGB): alpha is dropped, gray is repeated to
    /// RGB, RGB is reduced to gray with the ITU-R BT.601 luma weights.
    public func converted(toChannels count: Int) -> [UInt8] {
        precondition(count == 1 || count == 3)
        if count == channels { return pixels }
        let pixelCount = width * height
        var result = [UInt8](repeating: 0, count: pixelCount * count)
        let colour = channels >= 3
        for pixel in 0..<pixelCount {
            let source = pixel * channels
            if count == 1 {
                guard colour else {
                    result[pixel] = pixels[source]
                    continue
                }
                let red = 299 * Int(pixels[source]), green = 587 * Int(pixels[source + 1])
                let blue = 114 * Int(pixels[source + 2])
                result[pixel] = UInt8((red + green + blue + 500) / 1000)
            } else {
                for c in 0..<3 { result[pixel * 3 + c] = pixels[source + (colour ? c : 0)] }
            }
        }
        return result
    }
}

/// The text of a NUL-terminated C buffer (libpng's or libjpeg's error message).
private func cString(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
