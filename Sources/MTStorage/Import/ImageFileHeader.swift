import Foundation
import MTCore

/// The image formats mt decodes, told apart by their signatures.
public enum ImageFileFormat: String, Sendable {
    case png, jpeg

    public init?(magic: Data) {
        let bytes = [UInt8](magic.prefix(8))
        if bytes == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] { self = .png; return }
        if bytes.count >= 3, bytes[0] == 0xFF, bytes[1] == 0xD8, bytes[2] == 0xFF { self = .jpeg; return }
        return nil
    }

    /// File names the folder importer picks up (case-insensitive).
    public static let extensions: Set<String> = ["png", "jpg", "jpeg"]
}

/// What an image file's header says, read without decoding the pixels: a pass over a million files costs
/// a few kilobytes each. The importer uses it to choose gray or RGB and to check sizes before decoding.
public struct ImageFileHeader: Sendable, Equatable {
    public var format: ImageFileFormat
    /// Stored size, before the EXIF orientation is applied.
    public var width: Int
    public var height: Int
    /// Whether the pixels are colour (RGB, palette, CMYK) rather than gray (with or without alpha).
    public var isColour: Bool
    /// EXIF orientation (TIFF tag 0x0112): 1 upright, 2-8 mirrored and/or rotated; 1 when absent.
    public var orientation: Int

    public init(format: ImageFileFormat, width: Int, height: Int, isColour: Bool, orientation: Int = 1) {
        self.format = format
        self.width = width
        self.height = height
        self.isColour = isColour
        self.orientation = orientation
    }

    /// Size once the orientation is applied (orientations 5-8 swap the sides).
    public var uprightSize: (width: Int, height: Int) { orientation >= 5 ? (height, width) : (width, height) }

    public static func read(_ path: String) throws -> ImageFileHeader {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw MTError.badInput(path, nil, "cannot open image") }
        defer { try? handle.close() }
        var format = "image"
        func bytes(_ count: Int) throws -> [UInt8] {
            let data = (try? handle.read(upToCount: count)) ?? Data()
            guard data.count == count else { throw MTError.badInput(path, nil, "cannot decode \(format): file truncated in the header") }
            return [UInt8](data)
        }
        let magic = (try? handle.read(upToCount: 8)) ?? Data()
        let detected = ImageFileFormat(magic: magic)
        format = detected == .png ? "PNG" : "JPEG"
        switch detected {
        case .png:
            // IHDR is the first chunk: length, "IHDR", width, height, bit depth, colour type.
            let ihdr = try bytes(18)
            guard String(decoding: ihdr[4..<8], as: UTF8.self) == "IHDR" else { throw MTError.badInput(path, nil, "cannot decode PNG: no IHDR chunk") }
            let width = Int(bigEndian32(ihdr, 8)), height = Int(bigEndian32(ihdr, 12))
            guard width > 0, height > 0 else { throw MTError.badInput(path, nil, "cannot decode PNG: size \(width)x\(height)") }
            // Colour types 2 (RGB), 3 (palette) and 6 (RGBA) are colour; 0 and 4 gray.
            return ImageFileHeader(format: .png, width: width, height: height, isColour: [2, 3, 6].contains(ihdr[17]))
        case .jpeg:
            try handle.seek(toOffset: 2)
            return try readJPEGSegments(path, bytes)
        case nil:
            throw MTError.badInput(path, nil, "expected a PNG or JPEG image, found neither signature")
        }
    }

    /// Walks the JPEG marker segments up to the frame header (SOFn), reading the EXIF orientation on the way.
    private static func readJPEGSegments(_ path: String, _ bytes: (Int) throws -> [UInt8]) throws -> ImageFileHeader {
        var orientation = 1
        while true {
            var marker = try bytes(2)
            guard marker[0] == 0xFF else { throw MTError.badInput(path, nil, "cannot decode JPEG: expected a marker") }
            while marker[1] == 0xFF { marker[1] = try bytes(1)[0] }   // fill bytes
            let code = marker[1]
            if code == 0xD8 || (0xD0...0xD7).contains(code) || code == 0x01 { continue }   // no length
            if code == 0xD9 || code == 0xDA { throw MTError.badInput(path, nil, "cannot decode JPEG: no frame header before the image data") }
            let length = Int(bigEndian16(try bytes(2), 0))
            guard length >= 2 else { throw MTError.badInput(path, nil, "cannot decode JPEG: segment length \(length)") }
            let body = try bytes(length - 2)
            let isFrame = (0xC0...0xCF).contains(code) && ![0xC4, 0xC8, 0xCC].contains(code)
            if isFrame {
                guard body.count >= 6 else { throw MTError.badInput(path, nil, "cannot decode JPEG: short frame header") }
                let height = Int(bigEndian16(body, 1)), width = Int(bigEndian16(body, 3)), components = Int(body[5])
                guard width > 0, height > 0 else { throw MTError.badInput(path, nil, "cannot decode JPEG: size \(width)x\(height)") }
                return ImageFileHeader(format: .jpeg, width: width, height: height, isColour: components != 1, orientation: orientation)
            }
            if code == 0xE1, body.count > 14, Array(body[0..<6]) == [0x45, 0x78, 0x69, 0x66, 0, 0] {
                orientation = exifOrientation(Array(body[6...])) ?? orientation
            }
        }
    }

    /// The orientation tag of IFD0 in a TIFF structure (EXIF's payload), or nil when absent or malformed.
    static func exifOrientation(_ tiff: [UInt8]) -> Int? {
        guard tiff.count >= 8 else { return nil }
        let little: Bool
        switch (tiff[0], tiff[1]) {
        case (0x49, 0x49): little = true
        case (0x4D, 0x4D): little = false
        default: return nil
        }
        func u16(_ at: Int) -> Int? {
            guard at >= 0, at + 2 <= tiff.count else { return nil }
            return little ? Int(tiff[at]) | Int(tiff[at + 1]) << 8 : Int(tiff[at]) << 8 | Int(tiff[at + 1])
        }
        func u32(_ at: Int) -> Int? {
            guard let high = u16(little ? at + 2 : at), let low = u16(little ? at : at + 2) else { return nil }
            return high << 16 | low
        }
        guard let ifd = u32(4), let entries = u16(ifd) else { return nil }
        for entry in 0..<entries {
            let at = ifd + 2 + entry * 12
            guard let tag = u16(at) else { return nil }
            if tag == 0x0112, let value = u16(at + 8) { return (1...8).contains(value) ? value : nil }
        }
        return nil
    }
}

private func bigEndian32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
    UInt32(bytes[at]) << 24 | UInt32(bytes[at + 1]) << 16 | UInt32(bytes[at + 2]) << 8 | UInt32(bytes[at + 3])
}

private func bigEndian16(_ bytes: [UInt8], _ at: Int) -> UInt16 {
    UInt16(bytes[at]) << 8 | UInt16(bytes[at + 1])
}
