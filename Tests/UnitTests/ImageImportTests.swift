import Foundation
import MTCore
import MTStorage
import Testing
import TestSupport

/// Pseudo-random pixels with some structure (gradients plus noise), so resampling errors show.
private func pattern(width: Int, height: Int, channels: Int, seed: UInt64) -> PixelImage {
    var rng = SeededGenerator(seed: seed)
    var pixels = [UInt8](repeating: 0, count: width * height * channels)
    for y in 0..<height {
        for x in 0..<width {
            for c in 0..<channels {
                let ramp = (x * 255 / max(1, width - 1) + y * 97 / max(1, height) + c * 60) % 256
                pixels[(y * width + x) * channels + c] = UInt8((ramp + Int(rng.next() % 64)) % 256)
            }
        }
    }
    return PixelImage(pixels: pixels, width: width, height: height, channels: channels)
}

private func makeDirectory(_ path: String) throws {
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
}

/// A JPEG file's bytes with an EXIF APP1 segment carrying `orientation`, inserted after SOI.
private func withOrientation(_ jpeg: Data, _ orientation: UInt16, littleEndian: Bool) -> Data {
    func u16(_ v: UInt16) -> [UInt8] { littleEndian ? [UInt8(v & 255), UInt8(v >> 8)] : [UInt8(v >> 8), UInt8(v & 255)] }
    func u32(_ v: UInt32) -> [UInt8] { littleEndian ? u16(UInt16(v & 0xFFFF)) + u16(UInt16(v >> 16)) : u16(UInt16(v >> 16)) + u16(UInt16(v & 0xFFFF)) }
    // TIFF header, IFD0 at offset 8 with two entries (an unrelated tag first), no next IFD.
    let tiff: [UInt8] = (littleEndian ? [0x49, 0x49] : [0x4D, 0x4D]) + u16(42) + u32(8) + u16(2)
        + u16(0x010F) + u16(2) + u32(1) + [0x41, 0, 0, 0]            // Make = "A"
        + u16(0x0112) + u16(3) + u32(1) + u16(orientation) + [0, 0]  // Orientation
        + u32(0)
    let payload: [UInt8] = [0x45, 0x78, 0x69, 0x66, 0, 0] + tiff
    let length = UInt16(payload.count + 2)
    let segment: [UInt8] = [0xFF, 0xE1, UInt8(length >> 8), UInt8(length & 255)] + payload
    return jpeg.prefix(2) + Data(segment) + jpeg.dropFirst(2)
}

@Suite struct ImageResamplingTests {
    @Test func torchvisionGeometry() {
        // Resize(224) of 1000x700: the shorter side (700) becomes 224, the longer int(224 * 1000 / 700) = 320.
        #expect(ImageResampling.shorterSideSize(width: 1000, height: 700, side: 224) == (320, 224))
        #expect(ImageResampling.shorterSideSize(width: 7, height: 10, side: 3) == (3, 4))
        #expect(ImageResampling.shorterSideSize(width: 1, height: 1, side: 5) == (5, 5))
        // CenterCrop: round((size - crop) / 2) with half to even: 1 -> 0, 3 -> 2, 5 -> 2, 7 -> 4, 96 -> 48.
        #expect([1, 3, 5, 7, 96].map { ImageResampling.centreCropOrigin(size: 10 + $0, crop: 10) } == [0, 2, 2, 4, 48])
    }

    @Test func orientationsMatchTheirDefinitions() {
        // 3 wide, 2 high:  a b c / d e f
        let image: [UInt8] = [1, 2, 3, 4, 5, 6]
        let expected: [Int: ([UInt8], Int, Int)] = [
            1: ([1, 2, 3, 4, 5, 6], 3, 2),
            2: ([3, 2, 1, 6, 5, 4], 3, 2),            // mirrored
            3: ([6, 5, 4, 3, 2, 1], 3, 2),            // 180
            4: ([4, 5, 6, 1, 2, 3], 3, 2),            // flipped vertically
            5: ([1, 4, 2, 5, 3, 6], 2, 3),            // transposed
            6: ([4, 1, 5, 2, 6, 3], 2, 3),            // turned 90 clockwise
            7: ([6, 3, 5, 2, 4, 1], 2, 3),            // transversed
            8: ([3, 6, 2, 5, 1, 4], 2, 3),            // turned 90 counter-clockwise
        ]
        for (orientation, (pixels, width, height)) in expected {
            let result = ImageResampling.orient(image, width: 3, height: 2, channels: 1, orientation: orientation)
            #expect(result.pixels == pixels && result.width == width && result.height == height, "orientation \(orientation)")
        }
    }

    @Test func resizeKeepsConstantsAndIdentity() {
        let flat = [UInt8](repeating: 77, count: 37 * 23 * 3)
        #expect(ImageResampling.resize(flat, width: 37, height: 23, channels: 3, toWidth: 5, toHeight: 9).allSatisfy { $0 == 77 })
        #expect(ImageResampling.resize(flat, width: 37, height: 23, channels: 3, toWidth: 100, toHeight: 64).allSatisfy { $0 == 77 })
        let image = pattern(width: 6, height: 4, channels: 1, seed: 1).pixels
        #expect(ImageResampling.resize(image, width: 6, height: 4, channels: 1, toWidth: 6, toHeight: 4) == image)
    }

    /// The windowed resize (what the importer's resize + centre crop computes) is the crop of the whole
    /// resize, on both axes, one axis only, no resize at all, gray and RGB.
    @Test func windowedResizeIsTheCropOfTheWholeResize() {
        let cases = [(640, 480, 298, 224, 3), (480, 640, 224, 298, 1), (50, 40, 50, 25, 3), (40, 50, 25, 50, 1), (30, 20, 30, 20, 3), (20, 30, 45, 60, 3)]
        for (index, (w, h, toW, toH, channels)) in cases.enumerated() {
            let image = pattern(width: w, height: h, channels: channels, seed: UInt64(50 + index)).pixels
            let whole = ImageResampling.resize(image, width: w, height: h, channels: channels, toWidth: toW, toHeight: toH)
            for (columns, rows) in [(0..<toW, 0..<toH), ((toW / 5)..<(toW - toW / 4), (toH / 3)..<(toH - 1)), (0..<1, (toH - 1)..<toH)] {
                let window = ImageResampling.resize(image, width: w, height: h, channels: channels, toWidth: toW, toHeight: toH,
                                                    columns: columns, rows: rows)
                let expected = ImageResampling.crop(whole, width: toW, channels: channels, left: columns.lowerBound,
                                                    top: rows.lowerBound, cropWidth: columns.count, cropHeight: rows.count)
                #expect(window == expected, "\(w)x\(h) -> \(toW)x\(toH), columns \(columns), rows \(rows)")
            }
        }
    }

    /// Pillow's `Image.resize(size, Image.BILINEAR)` on the same pixels, bit for bit: down by large and
    /// fractional factors, up, one axis only, gray and RGB, down to 1x1.
    @Test(.needsPillow) func resizeMatchesPillowExactly() throws {
        let cases: [(Int, Int, Int, Int, Int)] = [
            (1000, 700, 320, 224, 3), (97, 61, 32, 32, 1), (20, 30, 64, 96, 3), (50, 40, 50, 13, 1),
            (41, 40, 17, 40, 3), (333, 211, 1, 1, 1), (1, 1, 7, 5, 3),
        ]
        try TestSupport.withTemporaryDirectory { dir in
            var script = "from PIL import Image\nimport sys\n"
            for (index, (w, h, toW, toH, channels)) in cases.enumerated() {
                let image = pattern(width: w, height: h, channels: channels, seed: UInt64(index))
                try Data(image.pixels).write(to: URL(fileURLWithPath: "\(dir)/\(index).raw"))
                let mode = channels == 1 ? "L" : "RGB"
                script += "im = Image.frombytes('\(mode)', (\(w), \(h)), open('\(dir)/\(index).raw', 'rb').read())\n"
                script += "open('\(dir)/\(index).pil', 'wb').write(im.resize((\(toW), \(toH)), Image.BILINEAR).tobytes())\n"
            }
            let result = try TestSupport.runPython(TestSupport.pythonWithPillow!, script)
            try #require(result.status == 0, "\(result.stderr)")
            for (index, (w, h, toW, toH, channels)) in cases.enumerated() {
                let image = pattern(width: w, height: h, channels: channels, seed: UInt64(index))
                let ours = ImageResampling.resize(image.pixels, width: w, height: h, channels: channels, toWidth: toW, toHeight: toH)
                let pillow = [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(dir)/\(index).pil")))
                let differing = zip(ours, pillow).filter { $0 != $1 }.count
                #expect(ours.count == pillow.count && differing == 0, "\(w)x\(h) -> \(toW)x\(toH) x\(channels): \(differing) values differ")
            }
        }
    }
}

@Suite struct JPEGTests {
    @Test func roundTripsGrayAndColourAtEverySize() throws {
        try TestSupport.withTemporaryDirectory { dir in
            for (w, h, channels) in [(1, 1, 1), (1, 1, 3), (1000, 700, 3), (17, 5, 1)] {
                let image = pattern(width: w, height: h, channels: channels, seed: 3)
                try image.writeJPEG("\(dir)/a.jpg", quality: 100)
                let header = try ImageFileHeader.read("\(dir)/a.jpg")
                #expect(header == ImageFileHeader(format: .jpeg, width: w, height: h, isColour: channels == 3))
                let decoded = try PixelImage.read("\(dir)/a.jpg")
                #expect(decoded.width == w && decoded.height == h && decoded.channels == channels)
                let error = zip(decoded.pixels, image.pixels).map { abs(Int($0) - Int($1)) }.reduce(0, +)
                #expect(Double(error) / Double(image.pixels.count) < 3, "\(w)x\(h)x\(channels): mean error \(Double(error) / Double(image.pixels.count))")
            }
        }
    }

    @Test func readsPNGHeadersWithoutDecoding() throws {
        try TestSupport.withTemporaryDirectory { dir in
            try pattern(width: 9, height: 4, channels: 4, seed: 1).writePNG(dir + "/a.png")
            #expect(try ImageFileHeader.read(dir + "/a.png") == ImageFileHeader(format: .png, width: 9, height: 4, isColour: true))
            try pattern(width: 3, height: 8, channels: 1, seed: 1).writePNG(dir + "/b.png")
            #expect(try ImageFileHeader.read(dir + "/b.png") == ImageFileHeader(format: .png, width: 3, height: 8, isColour: false))
        }
    }

    @Test func readsTheEXIFOrientationInBothByteOrders() throws {
        try TestSupport.withTemporaryDirectory { dir in
            try pattern(width: 8, height: 3, channels: 3, seed: 2).writeJPEG(dir + "/plain.jpg")
            let plain = try Data(contentsOf: URL(fileURLWithPath: dir + "/plain.jpg"))
            for (orientation, little) in [(6, true), (8, false), (3, true), (1, false)] {
                try withOrientation(plain, UInt16(orientation), littleEndian: little).write(to: URL(fileURLWithPath: dir + "/o.jpg"))
                let header = try ImageFileHeader.read(dir + "/o.jpg")
                #expect(header.orientation == orientation && header.width == 8 && header.height == 3)
                #expect(header.uprightSize == (orientation >= 5 ? (3, 8) : (8, 3)))
                // The pixels are those of the plain file: orientation is the importer's step, not the decoder's.
                #expect(try PixelImage.read(dir + "/o.jpg").pixels == PixelImage.read(dir + "/plain.jpg").pixels)
            }
        }
    }

    @Test func refusesTruncatedCMYKAndForeignFiles() throws {
        try TestSupport.withTemporaryDirectory { dir in
            try pattern(width: 64, height: 48, channels: 3, seed: 4).writeJPEG(dir + "/whole.jpg")
            let whole = try Data(contentsOf: URL(fileURLWithPath: dir + "/whole.jpg"))
            try whole.prefix(whole.count * 2 / 3).write(to: URL(fileURLWithPath: dir + "/cut.jpg"))
            // The header is intact, so the probe passes; decoding must fail rather than return gray rows.
            #expect(try ImageFileHeader.read(dir + "/cut.jpg").width == 64)
            let cut = #expect(throws: MTError.self) { try PixelImage.read(dir + "/cut.jpg") }
            #expect(cut?.message.hasPrefix(dir + "/cut.jpg: cannot decode JPEG") == true)

            try whole.prefix(40).write(to: URL(fileURLWithPath: dir + "/stub.jpg"))
            let stub = #expect(throws: MTError.self) { try ImageFileHeader.read(dir + "/stub.jpg") }
            #expect(stub?.message == dir + "/stub.jpg: cannot decode JPEG: file truncated in the header")

            try pattern(width: 8, height: 8, channels: 4, seed: 5).writeJPEG(dir + "/cmyk.jpg")
            #expect(throws: MTError.badInput(dir + "/cmyk.jpg", nil, "cannot decode JPEG: CMYK JPEG is not supported: convert it to RGB first")) {
                try PixelImage.read(dir + "/cmyk.jpg")
            }

            try Data("GIF89a......".utf8).write(to: URL(fileURLWithPath: dir + "/x.jpg"))
            #expect(throws: MTError.badInput(dir + "/x.jpg", nil, "expected a PNG or JPEG image, found neither signature")) {
                try ImageFileHeader.read(dir + "/x.jpg")
            }
        }
    }
}

@Suite struct CSVTableTests {
    @Test func parsesQuotedFieldsLineEndsAndByteOrderMark() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let text = "\u{FEFF}path,label\r\n\"a, b.jpg\",cat\r\n\"say \"\"hi\"\".png\",\r\n\nplain.png,\"two\nlines\"\n"
            try text.write(toFile: dir + "/t.csv", atomically: true, encoding: .utf8)
            let table = try CSVTable.read(dir + "/t.csv", hasHeader: true)
            #expect(table.header == ["path", "label"])
            #expect(table.rows == [["a, b.jpg", "cat"], ["say \"hi\".png", ""], ["plain.png", "two\nlines"]])
            // Written back and read again: the same table.
            try table.text().write(toFile: dir + "/u.csv", atomically: true, encoding: .utf8)
            #expect(try CSVTable.read(dir + "/u.csv", hasHeader: true) == table)

            try "a.png,\"open\n".write(toFile: dir + "/bad.csv", atomically: true, encoding: .utf8)
            #expect(throws: MTError.badInput(dir + "/bad.csv", nil, "line 2: a quoted field is not closed")) {
                try CSVTable.read(dir + "/bad.csv")
            }
        }
    }
}

@Suite struct ImageFolderImportTests {
    @Test func importsMixedFormatsAndSizesWithPathsKept() throws {
        try TestSupport.withTemporaryDirectory { dir in
            try makeDirectory(dir + "/photos/cat/holiday")
            try makeDirectory(dir + "/photos/dog")
            try makeDirectory(dir + "/photos/.thumbnails")
            try pattern(width: 40, height: 30, channels: 3, seed: 1).writeJPEG(dir + "/photos/cat/b.jpg")
            try pattern(width: 13, height: 50, channels: 1, seed: 2).writePNG(dir + "/photos/cat/holiday/a.PNG")
            try pattern(width: 16, height: 16, channels: 4, seed: 3).writePNG(dir + "/photos/dog/c.png")
            try pattern(width: 8, height: 8, channels: 1, seed: 4).writePNG(dir + "/photos/.thumbnails/t.png")
            try "not an image".write(toFile: dir + "/photos/dog/notes.txt", atomically: true, encoding: .utf8)

            var importer = ImageFolderImporter(directory: dir + "/photos", name: "p")
            importer.resize = .shorterSideCrop(12)
            let dataset = try importer.load()
            #expect(dataset.paths == ["cat/b.jpg", "cat/holiday/a.PNG", "dog/c.png"])
            #expect(dataset.labels == [0, 0, 1] && dataset.classNames == ["cat", "dog"])
            #expect(dataset.height == 12 && dataset.width == 12 && dataset.channels == 3)

            // The same pixels as resizing by hand: 40x30 -> 16x12, centre crop at x = 2.
            let b = try PixelImage.read(dir + "/photos/cat/b.jpg")
            let resized = ImageResampling.resize(b.pixels, width: 40, height: 30, channels: 3, toWidth: 16, toHeight: 12)
            #expect(Array(dataset.images[0..<(12 * 12 * 3)]) == ImageResampling.crop(resized, width: 16, channels: 3, left: 2, top: 0, cropWidth: 12, cropHeight: 12))

            // Without --size the sizes must agree; with squash the aspect ratio is dropped; gray on request.
            importer.resize = .none
            #expect(throws: MTError.self) { try importer.load() }
            importer.resize = .squash(5)
            importer.channels = .gray
            let squashed = try importer.load()
            #expect(squashed.channels == 1 && squashed.height == 5 && squashed.count == 3)
        }
    }

    @Test func appliesOrIgnoresTheEXIFOrientation() throws {
        try TestSupport.withTemporaryDirectory { dir in
            try makeDirectory(dir + "/d/x")
            let image = pattern(width: 6, height: 4, channels: 1, seed: 9)
            try image.writeJPEG(dir + "/plain.jpg", quality: 100)
            let plain = try Data(contentsOf: URL(fileURLWithPath: dir + "/plain.jpg"))
            try withOrientation(plain, 6, littleEndian: true).write(to: URL(fileURLWithPath: dir + "/d/x/o.jpg"))
            let decoded = try PixelImage.read(dir + "/plain.jpg")
            var importer = ImageFolderImporter(directory: dir + "/d", name: "o")
            let upright = try importer.load()
            #expect(upright.width == 4 && upright.height == 6)
            #expect(upright.images == ImageResampling.orient(decoded.pixels, width: 6, height: 4, channels: 1, orientation: 6).pixels)
            importer.appliesOrientation = false
            let stored = try importer.load()
            #expect(stored.width == 6 && stored.height == 4 && stored.images == decoded.pixels)
        }
    }

    @Test func skipsBadFilesOnlyWhenAsked() throws {
        try TestSupport.withTemporaryDirectory { dir in
            try makeDirectory(dir + "/d")
            for index in 0..<5 { try pattern(width: 48, height: 48, channels: 3, seed: UInt64(index)).writeJPEG("\(dir)/d/\(index).jpg") }
            let whole = try Data(contentsOf: URL(fileURLWithPath: dir + "/d/1.jpg"))
            try whole.prefix(whole.count / 2).write(to: URL(fileURLWithPath: dir + "/d/1.jpg"))
            try Data([0x89, 0x50]).write(to: URL(fileURLWithPath: dir + "/d/3.png"))
            var importer = ImageFolderImporter(directory: dir + "/d", name: "s")
            importer.labels = .none
            // The header pass runs first: the file with no signature stops the import before any decoding.
            #expect(throws: MTError.badInput(dir + "/d/3.png", nil, "expected a PNG or JPEG image, found neither signature")) { try importer.load() }
            try FileManager.default.moveItem(atPath: dir + "/d/3.png", toPath: dir + "/3.png")
            let error = #expect(throws: MTError.self) { try importer.load() }
            #expect(error?.message.hasPrefix(dir + "/d/1.jpg: cannot decode JPEG") == true, "\(error?.message ?? "")")
            try FileManager.default.moveItem(atPath: dir + "/3.png", toPath: dir + "/d/3.png")

            importer.skipsBadFiles = true
            let plan = try importer.plan()
            #expect(plan.skipped.map(\.path) == ["3.png"])   // no signature: refused by the header pass
            try importer.write(to: dir + "/s.h5", inputs: [dir + "/d"], memoryBudget: 1 << 20).skipped.forEach { _ in }
            let written = try ImageDataset.read(dir + "/s.h5")
            #expect(written.paths == ["0.jpg", "2.jpg", "3.jpg", "4.jpg"] && written.labels == [-1, -1, -1, -1])
            let file = try H5File.open(dir + "/s.h5")
            #expect(try file.readStrings("/skipped") == ["3.png", "1.jpg"])
            #expect(try file.readStrings("/skipped_reasons")[1].hasPrefix("cannot decode JPEG"))
        }
    }

    @Test func resultsDoNotDependOnThreadsOrBlockSize() throws {
        try TestSupport.withTemporaryDirectory { dir in
            try makeDirectory(dir + "/d/a")
            for index in 0..<23 {
                let image = pattern(width: 20 + index, height: 31 - index / 2, channels: 3, seed: UInt64(index))
                if index % 2 == 0 { try image.writeJPEG("\(dir)/d/a/\(index).jpg") } else { try image.writePNG("\(dir)/d/a/\(index).png") }
            }
            var importer = ImageFolderImporter(directory: dir + "/d", name: "t")
            importer.resize = .shorterSideCrop(9)
            var outputs: [[UInt8]] = []
            for (threads, budget) in [(1, 1 << 30), (2, 9 * 9 * 3 * 4 * 3), (2, 1 << 30)] {
                try Parallel.$threadCount.withValue(threads) {
                    _ = try importer.write(to: "\(dir)/\(threads)-\(budget).h5", inputs: [dir + "/d"], memoryBudget: budget)
                }
                outputs.append(try ImageDataset.read("\(dir)/\(threads)-\(budget).h5").images)
            }
            #expect(outputs[0] == outputs[1] && outputs[1] == outputs[2] && outputs[0].count == 23 * 9 * 9 * 3)
        }
    }

    @Test func readsLabelsFromACSV() throws {
        try TestSupport.withTemporaryDirectory { dir in
            try makeDirectory(dir + "/d/sub")
            for name in ["x.png", "sub/y.png", "z.png"] { try pattern(width: 4, height: 4, channels: 1, seed: 1).writePNG("\(dir)/d/\(name)") }
            try "path,label\nz.png,zebra\n\"sub/y.png\",ant\nx.png,\n".write(toFile: dir + "/l.csv", atomically: true, encoding: .utf8)
            var importer = ImageFolderImporter(directory: dir + "/d", name: "c")
            importer.labels = .csv(dir + "/l.csv")
            let dataset = try importer.load()
            #expect(dataset.paths == ["z.png", "sub/y.png", "x.png"] && dataset.labels == [1, 0, -1] && dataset.classNames == ["ant", "zebra"])

            try "x.png,1\nx.png,2\n".write(toFile: dir + "/twice.csv", atomically: true, encoding: .utf8)
            importer.labels = .csv(dir + "/twice.csv")
            #expect(throws: MTError.badInput(dir + "/twice.csv", nil, "x.png is listed twice")) { try importer.load() }
        }
    }
}

@Suite struct CompressedRowAppenderTests {
    /// Rows appended in uneven pieces, chunks of 3 rows compressed on two threads, a partial last chunk:
    /// HDF5's own deflate filter reads back exactly the rows written.
    @Test func writesChunksHDF5ReadsBack() throws {
        try TestSupport.withTemporaryDirectory { dir in
            var rng = SeededGenerator(seed: 7)
            let rowSize = 5 * 4 * 3
            // Chunks of noise (stored raw: deflate cannot shrink them) alternating with patterned chunks
            // (deflated), and a partial last chunk.
            let rows = (0..<(17 * rowSize)).map { index in UInt8(index / (3 * rowSize) % 2 == 0 ? Int(rng.next() % 256) : index % 7) }
            let file = try H5File.create(dir + "/c.h5")
            let appender = try CompressedRowAppender(file: file, name: "/images", rowShape: [5, 4, 3], chunkRows: 3)
            var start = 0
            try Parallel.$threadCount.withValue(2) {
                for piece in [1, 0, 5, 2, 7, 2] {
                    try rows.withUnsafeBufferPointer { all in
                        try appender.append(UnsafeBufferPointer(rebasing: all[(start * rowSize)..<((start + piece) * rowSize)]), rows: piece)
                    }
                    start += piece
                }
                try appender.finish()
            }
            #expect(appender.rowCount == 17)
            try file.closeWritten()
            let back = try H5File.open(dir + "/c.h5").read("/images", as: UInt8.self)
            #expect(back.shape == [17, 5, 4, 3] && back.values == rows)
            if let python = TestSupport.pythonWithH5py {
                // h5py honours the per-chunk filter mask of the raw chunks, and the patterned ones are deflated.
                let script = """
                import h5py, numpy as np
                with h5py.File('\(dir)/c.h5') as f:
                    d = f['images']
                    masks = [d.id.get_chunk_info(i).filter_mask for i in range(d.id.get_num_chunks())]
                    print(int(d[:].sum()), masks)
                """
                let result = try TestSupport.runPython(python, script)
                #expect(result.stdout == "\(rows.reduce(0) { $0 + Int($1) }) [3, 0, 3, 0, 3, 0]\n", "\(result.stdout)\(result.stderr)")
            }
        }
    }
}
