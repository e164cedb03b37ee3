import Foundation
import TestSupport
import Testing
@testable import MTCore
@testable import MTStorage
@testable import MTAlgorithms
@testable import MTNetwork
@testable import MTCommand

@Suite struct H5FileTests {
    @Test func roundTripsEveryDtypeAndShape() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let path = dir + "/a.h5"
            let file = try H5File.create(path)
            try file.write("/u8", [UInt8](0..<24), shape: [2, 3, 4])
            try file.write("/i32", [Int32(-5), 7, Int32.max], shape: [3])
            try file.write("/i64", [Int64.min, 0, Int64.max, 42], shape: [2, 2])
            try file.write("/f32", [Float(1.5), -2.25, .pi], shape: [3, 1])
            try file.write("/nested/group/f64", [Double.pi, -1e300], shape: [2])
            try file.writeScalar("/scalar", Int32(9))
            try file.write("/empty", [Float](), shape: [0, 4])
            file.close()

            let back = try H5File.open(path)
            #expect(try back.read("/u8", as: UInt8.self).values == [UInt8](0..<24))
            #expect(try back.read("/u8", as: UInt8.self).shape == [2, 3, 4])
            #expect(try back.read("/i32", as: Int32.self).values == [-5, 7, Int32.max])
            #expect(try back.read("/i64", as: Int64.self).values == [Int64.min, 0, Int64.max, 42])
            #expect(try back.read("/f32", as: Float.self).values == [1.5, -2.25, .pi])
            #expect(try back.read("/nested/group/f64", as: Double.self).values == [Double.pi, -1e300])
            #expect(try back.read("/scalar", as: Int32.self).shape == [])
            #expect(try back.read("/scalar", as: Int32.self).values == [9])
            #expect(try back.read("/empty", as: Float.self).shape == [0, 4])
            #expect(try back.info("/i64").typeName == "int64")
            #expect(try back.members(of: "/nested") == ["group"])
            #expect(back.isGroup("/nested/group") && !back.isGroup("/u8"))
        }
    }

    @Test func convertsWidthsWithinAClassButRefusesAnotherClass() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let file = try H5File.create(dir + "/a.h5")
            try file.write("/labels", [Int64(3), 1, 2])
            try file.write("/features", [Double(0.5), 0.25])
            #expect(try file.read("/labels", as: Int32.self).values == [3, 1, 2])
            #expect(try file.read("/features", as: Float.self).values == [0.5, 0.25])
            let error = #expect(throws: MTError.self) { try file.read("/features", as: Int32.self) }
            #expect(error?.message == "\(dir)/a.h5: /features: expected int32, found float64 [2]")
            #expect(error?.exitCode == 2)
        }
    }

    @Test func readsAndAppendsRowRangesOfChunkedData() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let file = try H5File.create(dir + "/a.h5")
            let rows = 70_000, width = 8
            let values = (0..<(rows * width)).map { Float($0) }
            try file.write("/big", values, shape: [rows, width])
            let slab = try file.readRows("/big", rows: 65_531..<65_540, as: Float.self)
            #expect(slab.shape == [9, width])
            #expect(slab.values == Array(values[(65_531 * width)..<(65_540 * width)]))
            #expect(throws: MTError.self) { try file.readRows("/big", rows: 69_999..<70_001, as: Float.self) }

            try file.createDataset("/grow", of: Int32.self, shape: [0, 2], layout: H5Layout(chunkRows: 4, extendable: true))
            for block in 0..<5 {
                let chunk = (0..<6).map { Int32(block * 6 + $0) }
                try chunk.withUnsafeBufferPointer { try file.appendRows("/grow", $0, rows: 3) }
            }
            let grown = try file.read("/grow", as: Int32.self)
            #expect(grown.shape == [15, 2])
            #expect(grown.values == (0..<30).map(Int32.init))
        }
    }

    @Test func roundTripsAttributesAndStrings() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let path = dir + "/a.h5"
            let file = try H5File.create(path)
            try file.write("/x", [Float(1)])
            try file.setAttribute("text", "héllo wörld")
            try file.setAttribute("n", 42)
            try file.setAttribute("pi", 3.25)
            try file.setAttribute("list", .ints([1, -2, 3]))
            try file.setAttribute("reals", .doubles([0.5, 1.5]))
            try file.setAttribute("names", .strings(["a", "", "ccc"]))
            try file.setAttribute("on_dataset", "yes", on: "/x")
            try file.setAttribute("n", 43)
            try file.writeStrings("/class_names", ["zero", "один", "two"])
            file.close()

            let back = try H5File.open(path)
            #expect(back.stringAttribute("text") == "héllo wörld")
            #expect(back.intAttribute("n") == 43)
            #expect(back.doubleAttribute("pi") == 3.25)
            #expect(back.attribute("list") == .ints([1, -2, 3]))
            #expect(back.attribute("reals") == .doubles([0.5, 1.5]))
            #expect(back.attribute("names") == .strings(["a", "", "ccc"]))
            #expect(back.stringAttribute("on_dataset", on: "/x") == "yes")
            #expect(back.attribute("absent") == nil)
            #expect(Set(back.attributeNames()) == ["text", "n", "pi", "list", "reals", "names"])
            #expect(try back.readStrings("/class_names") == ["zero", "один", "two"])
        }
    }

    @Test func refusesMissingAndNonHDF5Files() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let missing = #expect(throws: MTError.self) { try H5File.open(dir + "/nope.h5") }
            #expect(missing?.message == "\(dir)/nope.h5: no such file")
            try Data("hello".utf8).write(to: URL(fileURLWithPath: dir + "/text.h5"))
            let notHDF5 = #expect(throws: MTError.self) { try H5File.open(dir + "/text.h5") }
            #expect(notHDF5?.message == "\(dir)/text.h5: not an HDF5 file")
        }
    }
}

@Suite struct AtomicOutputTests {
    @Test func uncommittedOutputLeavesNothingAndKeepsTheOldFile() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let path = dir + "/out.h5"
            try Data("previous".utf8).write(to: URL(fileURLWithPath: path))
            do {
                let writer = try ArtifactWriter(path, kind: .features, inputs: [])
                try writer.file.write("/features", [Float](repeating: 1, count: 4), shape: [2, 2])
                #expect(TestSupport.files(in: dir).count == 2, "the temporary file sits beside the target")
                // Dropped without commit, as when a tool throws half-way.
            }
            #expect(TestSupport.files(in: dir) == ["out.h5"])
            #expect(try String(contentsOfFile: path, encoding: .utf8) == "previous")
        }
    }

    @Test func commitReplacesTheFileAtOnce() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let path = dir + "/out.h5"
            try Data("previous".utf8).write(to: URL(fileURLWithPath: path))
            let writer = try ArtifactWriter(path, kind: .split, inputs: ["a.h5"],
                                            provenance: Provenance(tool: "mt-test", command: "mt-test x"))
            try writer.file.write("/labeled", [Int64(1)])
            try writer.commit()
            #expect(TestSupport.files(in: dir) == ["out.h5"])
            let file = try H5File.open(path)
            #expect(file.stringAttribute("mt_kind") == "split")
            #expect(file.intAttribute("mt_format_version") == mtFormatVersion)
            #expect(file.stringAttribute("mt_tool") == "mt-test")
            #expect(file.stringAttribute("mt_command") == "mt-test x")
            #expect(file.stringAttribute("mt_version") == mtVersion)
            #expect(file.attribute("mt_inputs") == .strings(["a.h5"]))
        }
    }

    @Test func refusesAMissingOutputDirectory() throws {
        let error = #expect(throws: MTError.self) { try AtomicOutput("/nonexistent-dir-mt/out.h5", inputs: []) }
        #expect(error?.message.contains("does not exist") == true)
    }

    @Test(.needsMNIST) func interruptedToolLeavesNoTemporaryFile() throws {
        // Extracting pixel features of all of MNIST writes ~190 MB; SIGTERM while the temporary file
        // exists must remove it and leave no output.
        let dataset = try TestSupport.mnistTrain(limit: 60_000)
        try TestSupport.withTemporaryDirectory { dir in
            try dataset.write(dir + "/train.h5", inputs: [])
            let process = Process()
            process.executableURL = URL(fileURLWithPath: TestSupport.binDirectory + "/mt-features")
            process.arguments = ["extract", dir + "/train.h5", "--no-normalize", "-o", dir + "/out.h5"]
            try process.run()
            var sawTemporary = false
            for _ in 0..<20_000 where process.isRunning {
                if TestSupport.files(in: dir).contains(where: { $0.hasPrefix(".out.h5.") }) {
                    sawTemporary = true
                    process.terminate()
                    break
                }
                usleep(500)
            }
            process.waitUntilExit()
            #expect(sawTemporary, "the tool finished before its temporary output was seen")
            #expect(process.terminationReason == .uncaughtSignal)
            #expect(TestSupport.files(in: dir) == ["train.h5"])
        }
    }
}

@Suite struct ArtifactReaderTests {
    func makeFeatures(_ dir: String, kind: ArtifactKind? = .features, features: (H5File) throws -> Void) throws -> String {
        let path = dir + "/f.h5"
        let file = try H5File.create(path)
        if let kind { try file.setAttribute("mt_kind", kind.rawValue) }
        try features(file)
        file.close()
        return path
    }

    @Test func acceptsAValidFileAndBindsNamedDimensions() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let path = try makeFeatures(dir) { file in
                try file.write("/features", [Float](repeating: 0, count: 6), shape: [3, 2])
                try file.write("/labels", [Int32(0), 1, -1])
            }
            let features = try Features.read(path)
            #expect(features.count == 3 && features.dimension == 2 && features.labels == [0, 1, -1])
        }
    }

    @Test func acceptsHandMadeFilesWithoutKind() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let path = try makeFeatures(dir, kind: nil) { file in
                try file.write("/features", [Double](repeating: 0.5, count: 4), shape: [2, 2])
            }
            let features = try Features.read(path)
            #expect(features.labels == [-1, -1] && features.values == [0.5, 0.5, 0.5, 0.5])
        }
    }

    @Test func refusesWrongKindWithOneLine() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let path = try makeFeatures(dir, kind: .split) { try $0.write("/features", [Float(0)], shape: [1, 1]) }
            let error = #expect(throws: MTError.self) { try Features.read(path) }
            #expect(error?.message == "\(path): expected mt_kind features, found 'split'")
        }
    }

    @Test func refusesNewerFormatVersions() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let path = try makeFeatures(dir) { file in
                try file.setAttribute("mt_format_version", mtFormatVersion + 1)
                try file.write("/features", [Float(0)], shape: [1, 1])
            }
            let error = #expect(throws: MTError.self) { try Features.read(path) }
            #expect(error?.message.contains("newer than this mt supports") == true)
        }
    }

    @Test func refusesMissingDatasetWrongDtypeRankAndShape() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let missing = try makeFeatures(dir) { try $0.write("/labels", [Int32(0)]) }
            #expect(throws: MTError.badInput(missing, "/features", "missing dataset")) { try Features.read(missing) }

            let dtype = try makeFeatures(dir) { try $0.write("/features", [Int32(0), 1], shape: [1, 2]) }
            #expect(throws: MTError.badInput(dtype, "/features", "expected float32 [N,D], found int32 [1,2]")) {
                try Features.read(dtype)
            }

            let rank = try makeFeatures(dir) { try $0.write("/features", [Float(0), 1]) }
            #expect(throws: MTError.badInput(rank, "/features", "expected float32 [N,D], found float32 [2]")) {
                try Features.read(rank)
            }

            let shape = try makeFeatures(dir) { file in
                try file.write("/features", [Float](repeating: 0, count: 6), shape: [3, 2])
                try file.write("/labels", [Int32(0), 1])
            }
            #expect(throws: MTError.badInput(shape, "/labels", "expected int32 [N] with N=3, found int32 [2]")) {
                try Features.read(shape)
            }
        }
    }

    @Test func fixedDimensionsAreChecked() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let path = try makeFeatures(dir) { try $0.write("/features", [Float](repeating: 0, count: 6), shape: [3, 2]) }
            let reader = try ArtifactReader(path, expecting: .features)
            #expect(throws: MTError.self) { try reader.read("/features", as: Float.self, shape: ["N", 3]) }
            #expect(try reader.read("/features", as: Float.self, shape: [3, 2]).shape == [3, 2])
        }
    }

    @Test func splitRoundTripAndRangeChecks() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let split = Split(labeled: [1, 4], labeledLabels: [0, 2], unlabeled: [0, 2, 3], sampleCount: 5, classCount: 3)
            try split.write(dir + "/s.h5", inputs: ["d.h5"], attributes: ["seed": .int(3)])
            #expect(try Split.read(dir + "/s.h5") == split)
            #expect(throws: MTError.self) { try Split.read(dir + "/s.h5", sampleCount: 6) }
            let file = try H5File.openForUpdate(dir + "/s.h5")
            try file.setAttribute("num_samples", 4)
            file.close()
            let error = #expect(throws: MTError.self) { try Split.read(dir + "/s.h5") }
            #expect(error?.message == "\(dir)/s.h5: /labeled: expected indices in 0..<4, found 4")
        }
    }
}
