import CZlib
import Foundation
import TestSupport
import Testing
@testable import MTCore
@testable import MTStorage
@testable import MTAlgorithms
@testable import MTNetwork
@testable import MTCommand

@Suite struct MNISTImportTests {
    @Test(.needsMNIST) func importsRealMNIST() throws {
        let dataset = try TestSupport.mnistTrain(limit: 60_000)
        #expect(dataset.count == 60_000 && dataset.height == 28 && dataset.width == 28 && dataset.channels == 1)
        #expect(Array(dataset.labels.prefix(10)) == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4])
        var counts = [Int](repeating: 0, count: 10)
        for label in dataset.labels { counts[Int(label)] += 1 }
        #expect(counts == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949])
        // The first image (a 5) has ink in its middle rows and blank borders.
        let first = dataset.images.prefix(784)
        #expect(first.prefix(28).allSatisfy { $0 == 0 })
        #expect(first.reduce(0) { $0 + Int($1) } > 10_000)
    }

    func writeIDX(_ path: String, magic: UInt32, dims: [UInt32], body: [UInt8]) throws {
        var bytes: [UInt8] = []
        for word in [magic] + dims { bytes += [UInt8(word >> 24), UInt8(word >> 16 & 255), UInt8(word >> 8 & 255), UInt8(word & 255)] }
        try Data(bytes + body).write(to: URL(fileURLWithPath: path))
    }

    @Test func readsRawIDXAndChecksItsHeader() throws {
        try TestSupport.withTemporaryDirectory { dir in
            try writeIDX(dir + "/img", magic: 0x803, dims: [2, 2, 3], body: [UInt8](0..<12))
            try writeIDX(dir + "/lab", magic: 0x801, dims: [2], body: [7, 3])
            let dataset = try MNISTImporter.load(images: dir + "/img", labels: dir + "/lab", name: "t")
            #expect(dataset.images == [UInt8](0..<12) && dataset.labels == [7, 3] && dataset.width == 3)

            try writeIDX(dir + "/bad-magic", magic: 0x802, dims: [2, 2, 3], body: [UInt8](0..<12))
            #expect(throws: MTError.badInput(dir + "/bad-magic", nil, "expected idx magic number 0x00000803, found 0x00000802")) {
                try MNISTImporter.load(images: dir + "/bad-magic", labels: dir + "/lab", name: "t")
            }
            try writeIDX(dir + "/short", magic: 0x803, dims: [2, 2, 3], body: [UInt8](0..<11))
            let short = #expect(throws: MTError.self) { try MNISTImporter.load(images: dir + "/short", labels: dir + "/lab", name: "t") }
            #expect(short?.message.contains("too short") == true)
            try writeIDX(dir + "/lab3", magic: 0x801, dims: [3], body: [1, 2, 3])
            #expect(throws: MTError.self) { try MNISTImporter.load(images: dir + "/img", labels: dir + "/lab3", name: "t") }
        }
    }

    @Test(.needsMNIST) func refusesTruncatedGzip() throws {
        let directory = try #require(TestSupport.mnistDirectory)
        try TestSupport.withTemporaryDirectory { dir in
            let whole = try Data(contentsOf: URL(fileURLWithPath: directory + "/t10k-labels-idx1-ubyte.gz"))
            try whole.prefix(whole.count / 2).write(to: URL(fileURLWithPath: dir + "/cut.gz"))
            let error = #expect(throws: MTError.self) { try readPossiblyGzipped(dir + "/cut.gz") }
            #expect(error?.message.hasPrefix("\(dir)/cut.gz: truncated or corrupt gzip data") == true)
        }
    }
}

@Suite struct CIFARImportTests {
    /// Records whose pixel values encode (record, channel, position) so the plane-to-HWC order is checked.
    func record(label: [UInt8], index: Int) -> [UInt8] {
        label + (0..<3).flatMap { channel in (0..<1024).map { UInt8((index * 7 + channel * 50 + $0) % 256) } }
    }

    @Test func importsCIFAR10AndCIFAR100Records() throws {
        try TestSupport.withTemporaryDirectory { dir in
            try Data(record(label: [3], index: 0) + record(label: [9], index: 1)).write(to: URL(fileURLWithPath: dir + "/data_batch_1.bin"))
            try "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n".write(toFile: dir + "/batches.meta.txt", atomically: true, encoding: .utf8)
            let ten = try CIFARImporter.load(.cifar10, files: [dir + "/data_batch_1.bin"], name: "c")
            #expect(ten.count == 2 && ten.labels == [3, 9] && ten.channels == 3 && ten.height == 32)
            #expect(ten.classNames[3] == "cat")
            // Pixel (row 0, col 5) of record 1: R = 7+5, G = 7+50+5, B = 7+100+5.
            let pixel = 3072 + 5 * 3
            #expect(Array(ten.images[pixel..<(pixel + 3)]) == [12, 62, 112])

            try Data(record(label: [4, 77], index: 0)).write(to: URL(fileURLWithPath: dir + "/train.bin"))
            let hundred = try CIFARImporter.load(.cifar100, files: [dir + "/train.bin"], name: "c")
            #expect(hundred.labels == [77] && hundred.classNames.count == 100)

            try Data(record(label: [1], index: 0).dropLast()).write(to: URL(fileURLWithPath: dir + "/cut.bin"))
            #expect(throws: MTError.self) { try CIFARImporter.load(.cifar10, files: [dir + "/cut.bin"], name: "c") }
        }
    }
}

@Suite struct PNGImportTests {
    func folder(_ directory: String, labels: ImageFolderImporter.Labels = .folders) throws -> ImageDataset {
        var importer = ImageFolderImporter(directory: directory, name: "p")
        importer.labels = labels
        return try importer.load()
    }

    func gray(_ value: UInt8, _ size: Int = 4) -> PixelImage {
        PixelImage(pixels: [UInt8](repeating: value, count: size * size), width: size, height: size, channels: 1)
    }

    @Test func importsClassFoldersAsGrayOrRGB() throws {
        try TestSupport.withTemporaryDirectory { dir in
            for (name, value) in [("cat", UInt8(10)), ("dog", UInt8(200))] {
                try FileManager.default.createDirectory(atPath: "\(dir)/imgs/\(name)", withIntermediateDirectories: true)
                try gray(value).writePNG("\(dir)/imgs/\(name)/a.png")
                try gray(value + 1).writePNG("\(dir)/imgs/\(name)/b.png")
            }
            let dataset = try folder(dir + "/imgs")
            #expect(dataset.classNames == ["cat", "dog"] && dataset.labels == [0, 0, 1, 1] && dataset.channels == 1)
            #expect(dataset.images[16] == 11 && dataset.images[32] == 200)

            // One RGBA image makes the whole set RGB; alpha is dropped, gray is repeated.
            let rgba = PixelImage(pixels: (0..<16).flatMap { _ in [UInt8(1), 2, 3, 255] }, width: 4, height: 4, channels: 4)
            try rgba.writePNG("\(dir)/imgs/dog/c.png")
            let colour = try folder(dir + "/imgs")
            #expect(colour.channels == 3 && colour.count == 5)
            #expect(Array(colour.images[0..<3]) == [10, 10, 10])
            #expect(Array(colour.images[(4 * 48)..<(4 * 48 + 3)]) == [1, 2, 3])
        }
    }

    @Test func importsAFlatFolderWithACSV() throws {
        try TestSupport.withTemporaryDirectory { dir in
            for (index, value) in [UInt8(0), 100, 200].enumerated() { try gray(value).writePNG("\(dir)/\(index).png") }
            try "file,label\n0.png,zebra\n1.png,ant\n2.png,\n".write(toFile: dir + "/labels.csv", atomically: true, encoding: .utf8)
            let dataset = try folder(dir, labels: .csv(dir + "/labels.csv"))
            #expect(dataset.classNames == ["ant", "zebra"] && dataset.labels == [1, 0, -1])
        }
    }

    @Test func refusesCorruptAndMismatchedImages() throws {
        try TestSupport.withTemporaryDirectory { dir in
            try FileManager.default.createDirectory(atPath: dir + "/a/x", withIntermediateDirectories: true)
            try Data("\u{89}PNG\r\n\u{1A}\ngarbage".utf8).write(to: URL(fileURLWithPath: dir + "/a/x/bad.png"))
            let corrupt = #expect(throws: MTError.self) { try folder(dir + "/a") }
            #expect(corrupt?.message == "\(dir)/a/x/bad.png: expected a PNG or JPEG image, found neither signature")

            try FileManager.default.createDirectory(atPath: dir + "/b/x", withIntermediateDirectories: true)
            try gray(1, 4).writePNG(dir + "/b/x/1.png")
            try gray(1, 5).writePNG(dir + "/b/x/2.png")
            #expect(throws: MTError.badInput(dir + "/b/x/2.png", nil, "expected 4x4 like x/1.png, found 5x5 (give --size to resize)")) {
                try folder(dir + "/b")
            }
        }
    }

    // MARK: PNG variants our writer does not produce, built chunk by chunk with zlib.

    func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        let crc = body.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, UInt32($0.count))) }
        return bigEndian(UInt32(data.count)) + body + bigEndian(crc)
    }

    func bigEndian(_ value: UInt32) -> [UInt8] { [UInt8(value >> 24), UInt8(value >> 16 & 255), UInt8(value >> 8 & 255), UInt8(value & 255)] }

    /// A PNG of `width` x `height` with the given IHDR depth and colour type and pre-filtered rows.
    func png(width: Int, height: Int, depth: UInt8, colorType: UInt8, rows: [[UInt8]], palette: [UInt8]? = nil) -> [UInt8] {
        let raw: [UInt8] = rows.flatMap { [0] + $0 }
        var compressedSize = compressBound(UInt(raw.count))
        var compressed = [UInt8](repeating: 0, count: Int(compressedSize))
        let status = raw.withUnsafeBufferPointer { source in
            compress(&compressed, &compressedSize, source.baseAddress, UInt(source.count))
        }
        precondition(status == Z_OK)
        let header = bigEndian(UInt32(width)) + bigEndian(UInt32(height)) + [depth, colorType, 0, 0, 0]
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", header)
            + (palette.map { chunk("PLTE", $0) } ?? []) + chunk("IDAT", Array(compressed.prefix(Int(compressedSize))))
            + chunk("IEND", [])
    }

    @Test func decodesSixteenBitOneBitAndPalettePNGs() throws {
        try TestSupport.withTemporaryDirectory { dir in
            // 16-bit gray: 0xFF00 -> 255, 0x0100 -> 1 (high byte kept).
            try Data(png(width: 2, height: 1, depth: 16, colorType: 0, rows: [[0xFF, 0x00, 0x01, 0x00]]))
                .write(to: URL(fileURLWithPath: dir + "/g16.png"))
            let sixteen = try PixelImage.readPNG(dir + "/g16.png")
            #expect(sixteen.channels == 1 && sixteen.pixels == [255, 1])

            // 1-bit gray: bits 1,0,1,1 -> 255, 0, 255, 255.
            try Data(png(width: 4, height: 1, depth: 1, colorType: 0, rows: [[0b1011_0000]]))
                .write(to: URL(fileURLWithPath: dir + "/g1.png"))
            #expect(try PixelImage.readPNG(dir + "/g1.png").pixels == [255, 0, 255, 255])

            // 8-bit palette: indices 1, 0 into [red, green].
            try Data(png(width: 2, height: 1, depth: 8, colorType: 3, rows: [[1, 0]], palette: [255, 0, 0, 0, 255, 0]))
                .write(to: URL(fileURLWithPath: dir + "/p.png"))
            let palette = try PixelImage.readPNG(dir + "/p.png")
            #expect(palette.channels == 3 && palette.pixels == [0, 255, 0, 255, 0, 0])
        }
    }
}
