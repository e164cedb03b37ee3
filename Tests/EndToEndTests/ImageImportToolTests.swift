import Foundation
import MTCore
import MTStorage
import Testing
import TestSupport

/// 120 MNIST training digits, upscaled to 40x40 (JPEG for even indices, PNG for odd), one folder per digit
/// in DIR/digits; returns the digits as imported from MNIST.
func writeDigitFolder(_ dir: String) throws -> ImageDataset {
    let mnist = try #require(TestSupport.mnistDirectory)
    let imported = try TestSupport.run("mt-features", ["import", "mnist", mnist, "--split", "train", "--limit", "120", "-q", "-o", dir + "/mnist.h5"])
    try #require(imported.status == 0, "\(imported.stderr)")
    let digits = try ImageDataset.read(dir + "/mnist.h5")
    for index in 0..<digits.count {
        let folder = "\(dir)/digits/\(digits.labels[index])"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let pixels = Array(digits.images[(index * 784)..<((index + 1) * 784)])
        let large = PixelImage(pixels: ImageResampling.resize(pixels, width: 28, height: 28, channels: 1, toWidth: 40, toHeight: 40),
                               width: 40, height: 40, channels: 1)
        let name = String(format: "%03d", index)
        if index % 2 == 0 { try large.writeJPEG("\(folder)/\(name).jpg", quality: 95) } else { try large.writePNG("\(folder)/\(name).png") }
    }
    return digits
}

/// `mt-features import images` on real digits written as a folder of JPEG and PNG files of another size.
@Suite struct ImageImportToolTests {
    @Test(.needsMNIST) func importsAFolderOfDigitsBackToMNIST() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let digits = try writeDigitFolder(dir)
            let result = try TestSupport.run("mt-features", ["import", "images", dir + "/digits", "--size", "28", "--threads", "2", "-o", dir + "/d.h5"])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stderr.contains("wrote \(dir)/d.h5: 120 images 28x28x1, 10 classes"))
            let back = try ImageDataset.read(dir + "/d.h5")
            #expect(back.count == 120 && back.channels == 1 && back.classNames == (0...9).map(String.init))
            // Folder order is by class then name; the path gives back each digit's original index.
            for (row, path) in back.paths.enumerated() {
                let parts = path.split(separator: "/")
                let original = Int(parts[1].prefix(3))!
                #expect(back.labels[row] == digits.labels[original] && String(parts[0]) == String(digits.labels[original]))
                // Up to 40 and back down to 28 (and JPEG for half): close to the original digit, not equal.
                let error = (0..<784).map { abs(Int(back.images[row * 784 + $0]) - Int(digits.images[original * 784 + $0])) }.reduce(0, +)
                #expect(Double(error) / 784 < 12, "\(path): mean error \(Double(error) / 784)")
            }
            let file = try H5File.open(dir + "/d.h5")
            #expect(file.stringAttribute("resize") == "shorter-side 28, centre crop" && file.stringAttribute("mt_kind") == "dataset")
            #expect(file.attribute("mt_inputs") == .strings([dir + "/digits"]))

            // One thread gives the same file contents.
            #expect(try TestSupport.run("mt-features", ["import", "images", dir + "/digits", "--size", "28", "--threads", "1", "-q", "-o", dir + "/d1.h5"]).status == 0)
            #expect(try ImageDataset.read(dir + "/d1.h5").images == back.images)
        }
    }

    @Test(.needsMNIST) func badFilesStopTheImportOrAreSkippedAndListed() throws {
        try TestSupport.withTemporaryDirectory { dir in
            _ = try writeDigitFolder(dir)
            let victim = dir + "/digits/5/000.jpg"
            let whole = try Data(contentsOf: URL(fileURLWithPath: victim))
            try whole.prefix(whole.count - 200).write(to: URL(fileURLWithPath: victim))
            try expectRefused("mt-features", ["import", "images", dir + "/digits", "--size", "28"], in: dir, output: dir + "/d.h5",
                              mentioning: "\(victim): cannot decode JPEG")
            let skipped = try TestSupport.run("mt-features", ["import", "images", dir + "/digits", "--size", "28", "--skip-bad", "-o", dir + "/d.h5"])
            #expect(skipped.status == 0, "\(skipped.stderr)")
            #expect(skipped.stderr.contains("warning: skipped \(victim): cannot decode JPEG"), "\(skipped.stderr)")
            #expect(skipped.stderr.contains("119 images 28x28x1, 10 classes, 1 skipped"))
            let file = try H5File.open(dir + "/d.h5")
            #expect(try file.readStrings("/skipped") == ["5/000.jpg"])
            #expect(try !ImageDataset.read(dir + "/d.h5").paths.contains("5/000.jpg"))

            // Flags of the folder importer are refused for the other formats; sizes must agree without --size.
            try expectRefused("mt-features", ["import", "mnist", dir, "--size", "28"], in: dir, output: dir + "/m.h5", mentioning: "--size applies to images only")
            try FileManager.default.removeItem(atPath: victim)
            try PixelImage(pixels: [UInt8](repeating: 9, count: 30 * 20), width: 30, height: 20, channels: 1).writePNG(dir + "/digits/5/odd.png")
            try expectRefused("mt-features", ["import", "images", dir + "/digits"], in: dir, output: dir + "/n.h5",
                              mentioning: "\(dir)/digits/5/odd.png: expected 40x40 like 0/001.png, found 30x20 (give --size to resize)")
        }
    }

    @Test(.needsPython) func pathsAndSkippedListsReadInH5py() throws {
        try TestSupport.withTemporaryDirectory { dir in
            try FileManager.default.createDirectory(atPath: dir + "/photos/sub", withIntermediateDirectories: true)
            let image = PixelImage(pixels: (0..<(60 * 45 * 3)).map { UInt8($0 % 251) }, width: 60, height: 45, channels: 3)
            try image.writeJPEG(dir + "/photos/sub/é one.jpg")
            try image.writePNG(dir + "/photos/two.png")
            try Data("junk".utf8).write(to: URL(fileURLWithPath: dir + "/photos/three.jpg"))
            let result = try TestSupport.run("mt-features", ["import", "images", dir + "/photos", "--labels", "none", "--size", "16",
                                                             "--skip-bad", "-q", "-o", dir + "/p.h5"])
            // Warnings are shown even with -q: a skipped file is something to act on.
            #expect(result.status == 0 && result.stderr == "warning: skipped \(dir)/photos/three.jpg: expected a PNG or JPEG image, found neither signature\n", "\(result.stderr)")
            let script = """
            import h5py, sys
            with h5py.File(sys.argv[1]) as f:
                print(f["images"].shape, f["labels"][:].tolist())
                print([p.decode() for p in f["paths"][:]], [p.decode() for p in f["skipped"][:]])
            """
            let python = try TestSupport.execute(TestSupport.pythonWithH5py!, ["-c", script, dir + "/p.h5"])
            #expect(python.status == 0, "\(python.stderr)")
            #expect(python.stdout == "(2, 16, 16, 3) [-1, -1]\n['sub/é one.jpg', 'two.png'] ['three.jpg']\n", "\(python.stdout)")
        }
    }
}

/// The labelling-team loop on real digits: propagate, ask for the next labels, answer them (by hand or by
/// the oracle), export a selection for review and read the reviewed table back as a split.
@Suite struct LabelExchangeToolTests {
    func run(_ tool: String, _ arguments: [String]) throws -> ToolResult {
        let result = try TestSupport.run(tool, arguments + ["-q"])
        #expect(result.status == 0, "\(tool) \(arguments): \(result.stderr)")
        return result
    }

    /// Rows of a CSV file as dictionaries by header name.
    func table(_ path: String) throws -> [[String: String]] {
        let csv = try CSVTable.read(path, hasHeader: true)
        return csv.rows.map { Dictionary(uniqueKeysWithValues: zip(csv.header, $0)) }
    }

    @Test(.needsMNIST) func queryAnswerExportAndReadBack() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let digits = try writeDigitFolder(dir)
            _ = try run("mt-features", ["import", "images", dir + "/digits", "--size", "28", "-o", dir + "/d.h5"])
            _ = try run("mt-features", ["extract", dir + "/d.h5", "--model", "pca:20", "-o", dir + "/f.h5"])
            _ = try run("mt-select", ["split", dir + "/d.h5", "--per-class", "1", "--seed", "0", "-o", dir + "/s.h5"])
            _ = try run("mt-knn", ["propagate", dir + "/f.h5", "--split", dir + "/s.h5", "-o", dir + "/p.h5"])
            let imported = try ImageDataset.read(dir + "/d.h5")
            let first = try Split.read(dir + "/s.h5")

            // Ten questions, none already labelled, each with its file; label columns left for the human.
            _ = try run("mt-select", ["query", dir + "/p.h5", "--budget", "10", "--dataset", dir + "/d.h5", "-o", dir + "/q.csv"])
            let questions = try table(dir + "/q.csv")
            #expect(questions.count == 10 && questions.allSatisfy { $0["label"] == "" && $0["class_name"] == "" && $0["reason"] == "margin" })
            let asked = questions.map { Int($0["index"]!)! }
            #expect(Set(asked).isDisjoint(with: first.labeled) && questions.map { $0["path"]! } == asked.map { imported.paths[$0] })

            // The oracle answers from the data set's labels; a human answering the same by class name gets the same split.
            _ = try run("mt-select", ["split", dir + "/d.h5", "--from-csv", dir + "/q.csv", "--oracle", "--merge", dir + "/s.h5", "-o", dir + "/s2.h5"])
            let second = try Split.read(dir + "/s2.h5")
            #expect(second.labeled == (first.labeled + asked).sorted() && second.labeled.count == 20)
            #expect(zip(second.labeled, second.labeledLabels).allSatisfy { imported.labels[$0] == $1 })
            var answered = try CSVTable.read(dir + "/q.csv", hasHeader: true)
            let nameColumn = answered.header.firstIndex(of: "class_name")!
            for row in answered.rows.indices {
                answered.rows[row][nameColumn] = imported.classNames[Int(imported.labels[Int(answered.rows[row][0])!])]
            }
            try answered.text().write(toFile: dir + "/a.csv", atomically: true, encoding: .utf8)
            _ = try run("mt-select", ["split", dir + "/d.h5", "--from-csv", dir + "/a.csv", "--merge", dir + "/s.h5", "-o", dir + "/s3.h5"])
            #expect(try Split.read(dir + "/s3.h5") == second)

            // Coverage needs the features; with them it also proposes ten unlabelled images.
            try expectRefused("mt-select", ["query", dir + "/p.h5", "--budget", "5", "--by", "coverage"], in: dir, output: dir + "/c.csv",
                              mentioning: "--by coverage needs --features")
            _ = try run("mt-select", ["query", dir + "/p.h5", "--budget", "10", "--by", "coverage", "--features", dir + "/f.h5", "-o", dir + "/c.jsonl"])
            #expect(try String(contentsOfFile: dir + "/c.jsonl", encoding: .utf8).split(separator: "\n").count == 10)

            // Export a selection for review, least confident first, in both formats; read back, it is the selection.
            _ = try run("mt-select", ["pseudo", dir + "/p.h5", "--ratio", "0.5", "--balance", "none", "-o", dir + "/sel.h5"])
            let selection = try Selection.read(dir + "/sel.h5")
            for format in ["csv", "jsonl"] {
                let review = "\(dir)/review.\(format)"
                _ = try run("mt-select", ["export", dir + "/sel.h5", "--dataset", dir + "/d.h5", "--order", "least-confident", "-o", review])
                _ = try run("mt-select", ["split", dir + "/d.h5", "--from-csv", review, "-o", "\(dir)/r-\(format).h5"])
                let back = try Split.read("\(dir)/r-\(format).h5")
                let expected = zip(selection.index, selection.labels).sorted { $0.0 < $1.0 }
                #expect(back.labeled == expected.map(\.0) && back.labeledLabels == expected.map(\.1), "\(format)")
            }
            let rows = try table(dir + "/review.csv")
            let confidences = rows.map { Float($0["confidence"]!)! }
            #expect(rows.count == selection.count && confidences == confidences.sorted())
            #expect(rows.allSatisfy { imported.paths[Int($0["index"]!)!] == $0["path"] && $0["class_name"] == $0["label"] })
            #expect(digits.count == imported.count)

            // A reviewer who edits one label column but not the other is stopped, naming the row.
            var edited = try CSVTable.read(dir + "/review.csv", hasHeader: true)
            let labelColumn = edited.header.firstIndex(of: "label")!
            edited.rows[3][labelColumn] = edited.rows[3][labelColumn] == "1" ? "2" : "1"
            try edited.text().write(toFile: dir + "/edited.csv", atomically: true, encoding: .utf8)
            try expectRefused("mt-select", ["split", dir + "/d.h5", "--from-csv", dir + "/edited.csv"], in: dir, output: dir + "/e.h5",
                              mentioning: "edited.csv: row 4: label")
        }
    }
}
