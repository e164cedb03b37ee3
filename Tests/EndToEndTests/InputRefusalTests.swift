import Foundation
import MTCore
import MTStorage
import Testing
import TestSupport

/// The built tools refuse inputs that used to go through silently wrong (exit 2, one line naming the file
/// and dataset), and refuse numeric options outside their range.
@Suite struct InputRefusalTests {
    @Test func nonFiniteInputsAreRefusedByEveryTool() throws {
        try TestSupport.withTemporaryDirectory { dir in
            try PseudoLabels(probs: [1, 0, 0.5, 0.5, 0.5, 0.5], labels: [0, 1, 0], confidence: [1, .nan, 0.5], weights: nil,
                             count: 3, classCount: 2, labeled: [0], labeledLabels: [0], method: "knn").write(dir + "/p.h5", inputs: [])
            try expectRefused("mt-select", ["pseudo", dir + "/p.h5", "--ratio", "1"], in: dir, output: dir + "/sel.h5",
                              mentioning: "p.h5: /confidence: expected finite values, found nan in row 1")

            try Split(labeled: [0], labeledLabels: [0], unlabeled: [1, 2], sampleCount: 3, classCount: 2).write(dir + "/s.h5", inputs: [])
            try KNNGraph(neighbors: [1, 2, 0, 2, 0, 1], similarities: [0.9, 0.5, 0.9, .nan, 0.5, 0.4], count: 3, k: 2,
                         databaseSize: 3, selfIncluded: false).write(dir + "/g.h5", inputs: [])
            try expectRefused("mt-knn", ["spread", dir + "/g.h5", "--split", dir + "/s.h5"], in: dir, output: dir + "/out.h5",
                              mentioning: "g.h5: /similarities: expected finite values, found nan in row 1")

            try GraphEigenpairs(eigenvalues: [0, 0.5], eigenvectors: [0.5, 0.1, 0.5, .nan, 0.5, 0.2], degrees: [1, 1, 1],
                                residuals: [0, 0], count: 3, parameters: [:]).write(dir + "/e.h5", inputs: [])
            try expectRefused("mt-ncut", ["propagate", dir + "/e.h5", "--split", dir + "/s.h5"], in: dir, output: dir + "/out.h5",
                              mentioning: "e.h5: /eigenvectors: expected finite values, found nan in row 1")
        }
    }

    @Test func contradictoryOrOversizedInputsAreRefused() throws {
        try TestSupport.withTemporaryDirectory { dir in
            // A split whose sample 1 is both labelled and unlabelled.
            let features = Features(values: [1, 0, 0, 1, 1, 0], count: 3, dimension: 2, labels: [0, 1, 0], model: "t", normalized: true)
            try features.write(dir + "/f.h5", inputs: [])
            try Split(labeled: [0, 1], labeledLabels: [0, 1], unlabeled: [1, 2], sampleCount: 3, classCount: 2).write(dir + "/s.h5", inputs: [])
            try expectRefused("mt-knn", ["propagate", dir + "/f.h5", "--split", dir + "/s.h5"], in: dir, output: dir + "/out.h5",
                              mentioning: "s.h5: /unlabeled: expected samples not in /labeled, found 1 in both")

            // Label 99 in a data set of ten named classes.
            try ImageDataset(images: [UInt8](repeating: 0, count: 12), count: 3, height: 2, width: 2, channels: 1, labels: [0, 99, 1],
                             classNames: (0..<10).map(String.init), name: "t").write(dir + "/d.h5", inputs: [])
            try expectRefused("mt-select", ["split", dir + "/d.h5", "--per-class", "1"], in: dir, output: dir + "/out.h5",
                              mentioning: "d.h5: /labels: expected labels in -1..<10 (10 classes, -1 unknown), found 99")

            // 10^8 images declared (chunked, never written) and 10 labels.
            let huge = try H5File.create(dir + "/huge.h5")
            try huge.createDataset("/images", of: UInt8.self, shape: [100_000_000, 28, 28, 1], layout: H5Layout(chunkRows: 1))
            try huge.write("/labels", [Int32](repeating: 0, count: 10))
            huge.close()
            try expectRefused("mt-select", ["split", dir + "/huge.h5", "--per-class", "1"], in: dir, output: dir + "/out.h5",
                              mentioning: "huge.h5: /labels: expected int32 [N] with N=100000000, found int32 [10]")

            // The same declared size with as many labels: refused before allocating, naming the bytes.
            let agreeing = try H5File.create(dir + "/huge2.h5")
            try agreeing.createDataset("/images", of: UInt8.self, shape: [1_000_000_000, 28, 28, 1], layout: H5Layout(chunkRows: 1))
            try agreeing.createDataset("/labels", of: Int32.self, shape: [1_000_000_000], layout: H5Layout(chunkRows: 1024))
            agreeing.close()
            try expectRefused("mt-features", ["extract", dir + "/huge2.h5", "--model", "pixels"], in: dir, output: dir + "/out.h5",
                              mentioning: "huge2.h5: /images: declares uint8 [1000000000,28,28,1] = 784000000000 bytes, more than the ")

            // A split larger than the --memory budget of mt-knn propagate.
            try Split(labeled: [0], labeledLabels: [0], unlabeled: [1, 2], sampleCount: 3, classCount: 2).write(dir + "/s2.h5", inputs: [])
            try expectRefused("mt-knn", ["propagate", dir + "/f.h5", "--split", dir + "/s2.h5", "--memory", "10"], in: dir,
                              output: dir + "/out.h5", mentioning: "raise --memory if the file is right")
        }
    }

    @Test func numericOptionsOutsideTheirRangeAreRefused() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let cases: [(String, [String], String)] = [
                ("mt-knn", ["graph", "f.h5", "-k", "0"], "-k must be >= 1, got 0"),
                ("mt-knn", ["propagate", "f.h5", "--split", "s.h5", "--temperature", "nan"], "--temperature must be > 0, got nan"),
                ("mt-knn", ["spread", "g.h5", "--split", "s.h5", "--alpha", "1"], "--alpha must be in (0, 1), got 1.0"),
                ("mt-ncut", ["eigen", "g.h5", "--sigma", "0"], "--sigma must be > 0, got 0.0"),
                ("mt-ncut", ["propagate", "e.h5", "--split", "s.h5", "--temperature=-1"], "--temperature must be > 0, got -1.0"),
                ("mt-select", ["split", "d.h5", "--per-class", "0"], "--per-class must be >= 1, got 0"),
                ("mt-select", ["pseudo", "p.h5", "--ratio", "0"], "--ratio must be in (0, 1], got 0.0"),
                ("mt-select", ["pseudo", "p.h5", "--threshold", "1.5"], "--threshold must be in [0, 1], got 1.5"),
                ("mt-select", ["pseudo", "p.h5", "--reliable", "0"], "--reliable must be >= 1, got 0"),
                ("mt-select", ["pseudo", "p.h5", "--ratio", "0.5", "--balance", "sinkhorn", "--sinkhorn-lambda", "0"],
                 "--sinkhorn-lambda must be > 0, got 0.0"),
                ("mt-features", ["extract", "d.h5", "--model", "pca:0"], "--model pca:D: D must be >= 1, got 0"),
                // Negative numbers are values, not options: the range is what refuses them.
                ("mt-ncut", ["propagate", "e.h5", "--split", "s.h5", "--temperature", "-1"], "--temperature must be > 0, got -1.0"),
                ("mt-knn", ["graph", "f.h5", "-k", "-3"], "-k must be >= 1, got -3"),
                ("mt-train", ["classifier", "d.h5", "--arch", "mnist-cnn", "--lr", "-0.1"], "--lr must be > 0, got -0.1"),
                ("mt-train", ["ssl", "d.h5", "--method", "fixmatch", "--arch", "mnist-cnn", "--threshold", "-0.5"], "--threshold must be in [0, 1], got -0.5"),
            ]
            for (tool, arguments, message) in cases {
                try expectRefused(tool, arguments, in: dir, output: dir + "/out.h5", mentioning: message)
            }
            try expectRefused("mt-eval", ["metric", "a.h5", "b.h5", "-k", "0"], in: dir, mentioning: "-k must be >= 1, got 0")
            // A negative ncut bias is in range: parsed as a number, the missing file is what is refused.
            let negativeAlpha = try TestSupport.run("mt-ncut", ["propagate", dir + "/e.h5", "--split", dir + "/s.h5", "--alpha", "-0.5", "-o", dir + "/o.h5"])
            #expect(negativeAlpha.status == 2 && !negativeAlpha.stderr.contains("Missing value") && negativeAlpha.stderr.contains("e.h5"),
                    "\(negativeAlpha.stderr)")
            let help = try TestSupport.run("mt-select", ["pseudo", "--help"])
            #expect(help.stdout.contains("(in (0, 1])") && help.stdout.contains("class (>= 1)"))
        }
    }

    @Test func pcaFeaturesDoNotDependOnTheThreadCount() throws {
        let mnist = try #require(TestSupport.mnistDirectory)
        try TestSupport.withTemporaryDirectory { dir in
            let imported = try TestSupport.run("mt-features", ["import", "mnist", mnist, "--split", "train", "--limit", "2000", "-o", dir + "/train.h5"])
            #expect(imported.status == 0, "\(imported.stderr)")
            var features: [[UInt32]] = []
            for threads in ["1", "3"] {
                let out = dir + "/pca-\(threads).h5"
                let run = try TestSupport.run("mt-features", ["extract", dir + "/train.h5", "--model", "pca:20", "--threads", threads, "-o", out])
                #expect(run.status == 0, "\(run.stderr)")
                features.append(try H5File.open(out).read("/features", as: Float.self).values.map(\.bitPattern))
            }
            #expect(features[0].count == 2000 * 20)
            #expect(features[0] == features[1])
        }
    }
}
