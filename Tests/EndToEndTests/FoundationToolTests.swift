import Foundation
import MTCore
import MTStorage
import Testing
import TestSupport

/// Runs the built mt-features and mt-select on a real MNIST subset and on bad inputs.
@Suite struct FoundationToolTests {
    @Test(.needsMNIST) func importExtractAndSplitMNISTSubset() throws {
        let mnist = try #require(TestSupport.mnistDirectory)
        try TestSupport.withTemporaryDirectory { dir in
            let imported = try TestSupport.run("mt-features", ["import", "mnist", mnist, "--split", "train", "--limit", "2000", "-o", dir + "/train.h5"])
            #expect(imported.status == 0, "\(imported.stderr)")
            #expect(imported.stderr.contains("2000 images 28x28x1, 10 classes"))
            let dataset = try ImageDataset.read(dir + "/train.h5")
            #expect(dataset.count == 2000 && dataset.labels.prefix(3) == [5, 0, 4])

            #expect(try TestSupport.run("mt-features", ["extract", dir + "/train.h5", "--model", "pca:32", "-q", "-o", dir + "/pca.h5"]).status == 0)
            let features = try Features.read(dir + "/pca.h5")
            #expect(features.dimension == 32 && features.count == 2000 && features.normalized)
            let file = try H5File.open(dir + "/pca.h5")
            #expect(file.stringAttribute("mt_tool") == "mt-features")
            #expect(file.stringAttribute("mt_command")?.hasSuffix("--model pca:32 -q -o \(dir)/pca.h5") == true)
            #expect(file.attribute("mt_inputs") == .strings([dir + "/train.h5"]))

            let split = try TestSupport.run("mt-select", ["split", dir + "/pca.h5", "--per-class", "3", "--seed", "2", "-o", dir + "/split.h5"])
            #expect(split.status == 0, "\(split.stderr)")
            let drawn = try Split.read(dir + "/split.h5")
            #expect(drawn.labeled.count == 30 && drawn.sampleCount == 2000 && drawn.classCount == 10)
            #expect(try H5File.open(dir + "/split.h5").intAttribute("per_class") == 3)

            // 1-NN on 32-d PCA from 30 labels: far above chance (10 %) on real digits.
            var correct = 0
            for sample in drawn.unlabeled {
                var best = -Float.infinity, bestLabel: Int32 = -1
                for (index, label) in zip(drawn.labeled, drawn.labeledLabels) {
                    let s = (0..<32).reduce(Float(0)) { $0 + features.values[sample * 32 + $1] * features.values[index * 32 + $1] }
                    if s > best { (best, bestLabel) = (s, label) }
                }
                if bestLabel == dataset.labels[sample] { correct += 1 }
            }
            #expect(Double(correct) / Double(drawn.unlabeled.count) > 0.5)
        }
    }

    @Test func helpShowsAnExample() throws {
        let help = try TestSupport.run("mt-features", ["import", "--help"])
        #expect(help.status == 0 && help.stdout.contains("mt-features import mnist"))
        let split = try TestSupport.run("mt-select", ["split", "--help"])
        #expect(split.status == 0 && split.stdout.contains("--per-class 10"))
    }

    @Test func badInputsAreRefusedCleanly() throws {
        try TestSupport.withTemporaryDirectory { dir in
            try Data("not hdf5".utf8).write(to: URL(fileURLWithPath: dir + "/text.h5"))
            try expectRefused("mt-features", ["extract", dir + "/missing.h5"], in: dir, output: dir + "/out.h5", mentioning: "\(dir)/missing.h5: no such file")
            try expectRefused("mt-features", ["extract", dir + "/text.h5"], in: dir, output: dir + "/out.h5", mentioning: "\(dir)/text.h5: not an HDF5 file")

            let split = Split(labeled: [0], labeledLabels: [0], unlabeled: [1], sampleCount: 2, classCount: 1)
            try split.write(dir + "/split.h5", inputs: [])
            try expectRefused("mt-features", ["extract", dir + "/split.h5"], in: dir, output: dir + "/out.h5", mentioning: "expected mt_kind dataset, found 'split'")

            let noImages = try H5File.create(dir + "/noimages.h5")
            try noImages.write("/labels", [Int32(0)])
            noImages.close()
            try expectRefused("mt-features", ["extract", dir + "/noimages.h5"], in: dir, output: dir + "/out.h5", mentioning: "noimages.h5: /images: missing dataset")

            let floats = try H5File.create(dir + "/floats.h5")
            try floats.write("/images", [Float](repeating: 0, count: 4), shape: [1, 2, 2, 1])
            try floats.write("/labels", [Int32(0)])
            floats.close()
            try expectRefused("mt-features", ["extract", dir + "/floats.h5"], in: dir, output: dir + "/out.h5", mentioning: "/images: expected uint8 [N,H,W,C], found float32 [1,2,2,1]")

            let rank = try H5File.create(dir + "/rank.h5")
            try rank.write("/images", [UInt8](repeating: 0, count: 4), shape: [1, 4])
            try rank.write("/labels", [Int32(0)])
            rank.close()
            try expectRefused("mt-features", ["extract", dir + "/rank.h5"], in: dir, output: dir + "/out.h5", mentioning: "found uint8 [1,4]")

            let shape = try H5File.create(dir + "/shape.h5")
            try shape.write("/images", [UInt8](repeating: 0, count: 8), shape: [2, 2, 2, 1])
            try shape.write("/labels", [Int32(0)])
            shape.close()
            try expectRefused("mt-features", ["extract", dir + "/shape.h5"], in: dir, output: dir + "/out.h5", mentioning: "/labels: expected int32 [N] with N=2, found int32 [1]")

            try Data([0, 0, 8, 2, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0]).write(to: URL(fileURLWithPath: dir + "/img.idx"))
            try Data([0, 0, 8, 1, 0, 0, 0, 1, 3]).write(to: URL(fileURLWithPath: dir + "/lab.idx"))
            try expectRefused("mt-features", ["import", "mnist", dir + "/img.idx", dir + "/lab.idx"], in: dir, output: dir + "/out.h5", mentioning: "expected idx magic number 0x00000803")
            try Data([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 1, 0]).write(to: URL(fileURLWithPath: dir + "/short.idx"))
            try Data([0, 0, 8, 1, 0, 0, 0, 2, 3, 4]).write(to: URL(fileURLWithPath: dir + "/lab2.idx"))
            try expectRefused("mt-features", ["import", "mnist", dir + "/short.idx", dir + "/lab2.idx"], in: dir, output: dir + "/out.h5", mentioning: "too short")

            try FileManager.default.createDirectory(atPath: dir + "/png/a", withIntermediateDirectories: true)
            try Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x78, 0x78]).write(to: URL(fileURLWithPath: dir + "/png/a/x.png"))
            try expectRefused("mt-features", ["import", "png", dir + "/png"], in: dir, output: dir + "/out.h5", mentioning: "x.png: cannot decode PNG")
            try expectRefused("mt-features", ["import", "images", dir + "/png", "--size", "8"], in: dir, output: dir + "/out.h5", mentioning: "x.png: cannot decode PNG: file truncated in the header")

            try expectRefused("mt-select", ["split", dir + "/text.h5", "--per-class", "1"], in: dir, output: dir + "/out.h5", mentioning: "not an HDF5 file")
        }
    }

    @Test(.needsMNIST) func truncatedGzipIsRefused() throws {
        let mnist = try #require(TestSupport.mnistDirectory)
        try TestSupport.withTemporaryDirectory { dir in
            let whole = try Data(contentsOf: URL(fileURLWithPath: mnist + "/t10k-images-idx3-ubyte.gz"))
            try whole.prefix(100_000).write(to: URL(fileURLWithPath: dir + "/cut.gz"))
            try expectRefused("mt-features", ["import", "mnist", dir + "/cut.gz", mnist + "/t10k-labels-idx1-ubyte.gz"],
                              in: dir, output: dir + "/out.h5", mentioning: "cut.gz: truncated or corrupt gzip data")
        }
    }

    @Test func usageErrorsExitTwo() throws {
        let result = try TestSupport.run("mt-select", ["split", "x.h5", "-o", "y.h5"])
        #expect(result.status == 2 && result.stderr.contains("give exactly one of --per-class, --labeled or --from-csv"))
    }
}
