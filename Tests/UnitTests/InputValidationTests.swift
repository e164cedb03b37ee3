import CBLAS
import Foundation
import TestSupport
import Testing
@testable import MTCore
@testable import MTStorage
@testable import MTAlgorithms
@testable import MTCommand

/// Inputs that used to go through silently wrong: non-finite floats, contradictory splits, labels outside
/// the classes, files declaring more than they hold. Each is refused with `file: /dataset: what`.
@Suite struct InputValidationTests {
    func refusal(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch let error as MTError {
            return error.exitCode == 2 ? error.message : "exit \(error.exitCode): \(error.message)"
        } catch {
            return "\(error)"
        }
    }

    func pseudoLabels(probs: [Float] = [1, 0, 0.25, 0.75, 0.5, 0.5], confidence: [Float] = [1, 0.75, 0.5],
                      weights: [Float]? = nil) -> PseudoLabels {
        PseudoLabels(probs: probs, labels: [0, 1, 0], confidence: confidence, weights: weights, count: 3, classCount: 2,
                     labeled: [0], labeledLabels: [0], method: "knn")
    }

    @Test func nonFiniteFloatsAreRefusedNamingTheDatasetAndRow() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let path = dir + "/p.h5"
            try pseudoLabels(confidence: [1, .nan, 0.5]).write(path, inputs: [])
            #expect(refusal { _ = try PseudoLabels.read(path) } == "\(path): /confidence: expected finite values, found nan in row 1")
            try pseudoLabels(weights: [1, 0.5, .infinity]).write(path, inputs: [])
            #expect(refusal { _ = try PseudoLabels.read(path) } == "\(path): /weights: expected finite values, found inf in row 2")
            try pseudoLabels(probs: [1, 0, 0.25, 0.75, .nan, 0.5]).write(path, inputs: [])
            #expect(refusal { _ = try PseudoLabels.read(path) } == "\(path): /probs: expected finite values, found nan in row 2")
            try pseudoLabels().write(path, inputs: [])
            #expect(refusal { _ = try PseudoLabels.read(path) } == nil)

            let graph = dir + "/g.h5"
            try KNNGraph(neighbors: [1, 2, 0, 2, 0, 1], similarities: [0.9, 0.5, 0.9, 0.4, 0.5, .nan], count: 3, k: 2,
                         databaseSize: 3, selfIncluded: false).write(graph, inputs: [])
            #expect(refusal { _ = try KNNGraph.read(graph) } == "\(graph): /similarities: expected finite values, found nan in row 2")

            let eigen = dir + "/e.h5"
            try GraphEigenpairs(eigenvalues: [0, 0.5], eigenvectors: [0.5, 0.1, 0.5, .nan, 0.5, 0.2], degrees: [1, 1, 1],
                                residuals: [0, 0], count: 3, parameters: [:]).write(eigen, inputs: [])
            #expect(refusal { _ = try GraphEigenpairs.read(eigen) } == "\(eigen): /eigenvectors: expected finite values, found nan in row 1")
            try GraphEigenpairs(eigenvalues: [0, 0.5], eigenvectors: [Float](repeating: 0.5, count: 6), degrees: [1, 1, 1],
                                residuals: [0, -.infinity], count: 3, parameters: [:]).write(eigen, inputs: [])
            #expect(refusal { _ = try GraphEigenpairs.read(eigen) } == "\(eigen): /residuals: expected finite values, found -inf in row 1")

            let features = dir + "/f.h5"
            try Features(values: [0, 1, 2, .nan], count: 2, dimension: 2, labels: [0, 1], model: "test", normalized: false)
                .write(features, inputs: [])
            #expect(refusal { _ = try Features.read(features) } == "\(features): /features: expected finite values, found nan in row 1")

            let pca = dir + "/pca.h5"
            try Features(values: [0, 1], count: 2, dimension: 1, labels: [0, 1], model: "pca:1", normalized: false).write(pca, inputs: []) {
                try PCAProjection(mean: [0, .nan], components: [1, 0], scale: [1], variances: [1]).write(to: $0)
            }
            #expect(refusal { _ = try PCAProjection.read(pca) } == "\(pca): /pca/mean: expected finite values, found nan in row 1")
        }
    }

    @Test func probabilitiesMustBeDistributions() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let path = dir + "/p.h5"
            try pseudoLabels(probs: [1, 0, 0.25, 0.5, 0.5, 0.5]).write(path, inputs: [])
            #expect(refusal { _ = try PseudoLabels.read(path) } == "\(path): /probs: expected rows summing to 1, found 0.75 in row 1")
            try pseudoLabels(probs: [1, 0, 1.5, -0.5, 0.5, 0.5]).write(path, inputs: [])
            #expect(refusal { _ = try PseudoLabels.read(path) } == "\(path): /probs: expected values in 0.0...1.0, found 1.5 in row 1")
            try pseudoLabels(confidence: [1, 2, 0.5]).write(path, inputs: [])
            #expect(refusal { _ = try PseudoLabels.read(path) } == "\(path): /confidence: expected values in 0.0...1.0, found 2.0 in row 1")
            // A class count that disagrees with the columns of /probs.
            try pseudoLabels().write(path, inputs: [])
            try H5File.openForUpdate(path).setAttribute("num_classes", 3)
            #expect(refusal { _ = try PseudoLabels.read(path) } == "\(path): num_classes is 3 but /probs has 2 columns")
        }
    }

    @Test func eigenDegreesMustBePositive() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let eigen = dir + "/e.h5"
            try GraphEigenpairs(eigenvalues: [0, 0.5], eigenvectors: [Float](repeating: 0.5, count: 10), degrees: [1, 1, 1, 1, 0],
                                residuals: [0, 0], count: 5, parameters: [:]).write(eigen, inputs: [])
            #expect(refusal { _ = try GraphEigenpairs.read(eigen) } == "\(eigen): /degrees: expected positive degrees, found 0.0 in row 4")
        }
    }

    /// The examples of the "Inputs" and "Training" tables of docs/ROBUSTNESS.md are messages the tests
    /// assert (these, InputRefusalTests, TrainingToolTests, TrainingRunTests), so the document cannot promise
    /// a message the tools do not print.
    @Test(arguments: ["Inputs", "Training"]) func robustnessTableQuotesTestedMessages(section name: String) throws {
        let root = TestSupport.repositoryRoot
        let document = try String(contentsOfFile: root + "/docs/ROBUSTNESS.md", encoding: .utf8)
        let section = try #require(document.components(separatedBy: "\n## \(name)\n").dropFirst().first?.components(separatedBy: "\n## ").first)
        let tests = try ["Tests/UnitTests/InputValidationTests.swift", "Tests/EndToEndTests/InputRefusalTests.swift",
                         "Tests/EndToEndTests/TrainingToolTests.swift", "Tests/UnitTests/TrainingRunTests.swift"]
            .map { try String(contentsOfFile: root + "/" + $0, encoding: .utf8) }.joined()
        let rows = section.split(separator: "\n").filter { $0.hasPrefix("| ") && !$0.hasPrefix("| fault") && !$0.hasPrefix("| ---") }
        #expect(rows.count >= (name == "Inputs" ? 15 : 4))
        for row in rows {
            let cells = row.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            #expect(cells.count >= 4 && ["1", "2", "killed"].contains(cells[2]), "exit status of \(row)")
            // Each quoted example, after its file or tool name, appears in an assertion ("..." elides a part).
            let quoted = cells[3].split(separator: "`", omittingEmptySubsequences: false).enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) }
            for example in quoted where example.contains(": ") || example.contains(" must be ") {
                var body = example
                if let colon = body.range(of: ".h5: ") { body = String(body[colon.upperBound...]) }
                for tool in ["mt-select: ", "mt-train: "] where body.hasPrefix(tool) { body = String(body.dropFirst(tool.count)) }
                // Usage errors end with ArgumentParser's pointer to --help, which the tests leave out.
                if body.hasSuffix(" (see --help)") { body = String(body.dropLast(" (see --help)".count)) }
                let parts = body.components(separatedBy: "...").map { $0.trimmingCharacters(in: .whitespaces) }.filter { $0.count > 12 }
                #expect(!parts.isEmpty && parts.allSatisfy { tests.contains($0) }, "docs/ROBUSTNESS.md quotes an untested message: \(example)")
            }
        }
    }

    /// A hand-made split file with the given datasets (no mt_* attributes, as h5py would write it).
    func writeSplit(_ path: String, labeled: [Int64], labels: [Int64], unlabeled: [Int64], samples: Int? = 6, classes: Int? = 2) throws {
        let file = try H5File.create(path)
        try file.write("/labeled", labeled)
        try file.write("/labeled_labels", labels)
        try file.write("/unlabeled", unlabeled)
        if let samples { try file.setAttribute("num_samples", samples) }
        if let classes { try file.setAttribute("num_classes", classes) }
        file.close()
    }

    @Test func contradictorySplitsAreRefused() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let path = dir + "/s.h5"
            try writeSplit(path, labeled: [0, 3], labels: [0, 1], unlabeled: [1, 2, 4, 5])
            let good = try Split.read(path)
            #expect(good.labeled == [0, 3] && good.labeledLabels == [0, 1] && good.classCount == 2 && good.sampleCount == 6)

            try writeSplit(path, labeled: [0, 3, 0], labels: [0, 1, 1], unlabeled: [1, 2, 4, 5])
            #expect(refusal { _ = try Split.read(path) } == "\(path): /labeled: expected distinct indices, found 0 more than once")
            try writeSplit(path, labeled: [0, 3], labels: [0, 1], unlabeled: [1, 2, 3, 4, 5])
            #expect(refusal { _ = try Split.read(path) } == "\(path): /unlabeled: expected samples not in /labeled, found 3 in both")
            try writeSplit(path, labeled: [0, 3], labels: [0, 1], unlabeled: [1, 2, 2, 4, 5])
            #expect(refusal { _ = try Split.read(path) } == "\(path): /unlabeled: expected distinct indices, found 2 more than once")
            try writeSplit(path, labeled: [], labels: [], unlabeled: [0, 1, 2, 3, 4, 5])
            #expect(refusal { _ = try Split.read(path) } == "\(path): /labeled: expected at least one labelled sample, found none")
            try writeSplit(path, labeled: [0, 3], labels: [0, 1], unlabeled: [1, 2, 4, 6])
            #expect(refusal { _ = try Split.read(path) } == "\(path): /unlabeled: expected indices in 0..<6, found 6")
        }
    }

    @Test func labelsFollowOneRuleEverywhere() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let path = dir + "/s.h5"
            // 2^40 does not fit int32: refused, not wrapped to class 0.
            try writeSplit(path, labeled: [0, 3], labels: [0, 1 << 40], unlabeled: [1])
            #expect(refusal { _ = try Split.read(path) } == "\(path): /labeled_labels: expected labels in 0..<2 (2 classes), found 1099511627776")
            try writeSplit(path, labeled: [0, 3], labels: [0, -1], unlabeled: [1])
            #expect(refusal { _ = try Split.read(path) } == "\(path): /labeled_labels: expected labels in 0..<2 (2 classes), found -1")
            try writeSplit(path, labeled: [0, 3], labels: [0, 2], unlabeled: [1])
            #expect(refusal { _ = try Split.read(path) } == "\(path): /labeled_labels: expected labels in 0..<2 (2 classes), found 2")
            // Without num_classes the count is inferred, within a limit.
            try writeSplit(path, labeled: [0, 3], labels: [0, 4], unlabeled: [1], classes: nil)
            #expect(try Split.read(path).classCount == 5)
            try writeSplit(path, labeled: [0, 3], labels: [0, 1 << 20], unlabeled: [1], classes: nil)
            #expect(refusal { _ = try Split.read(path) }?.contains("at most 65536 classes when the file names none") == true)

            // A data set with class names: label 99 is refused, not a 100-class problem; -5 is refused, -1 is unknown.
            let data = dir + "/d.h5"
            func writeDataset(labels: [Int32]) throws {
                try ImageDataset(images: [UInt8](repeating: 0, count: labels.count * 4), count: labels.count, height: 2, width: 2,
                                 channels: 1, labels: labels, classNames: (0..<10).map(String.init), name: "t").write(data, inputs: [])
            }
            try writeDataset(labels: [0, 9, -1])
            let truth = try TruthLabels.read(data)
            #expect(truth.classCount == 10 && truth.labels == [0, 9, -1])
            try writeDataset(labels: [0, 99, 1])
            let expected = "\(data): /labels: expected labels in -1..<10 (10 classes, -1 unknown), found 99"
            #expect(refusal { _ = try TruthLabels.read(data) } == expected)
            #expect(refusal { _ = try ImageDataset.read(data) } == expected)
            try writeDataset(labels: [0, -5, 1])
            #expect(refusal { _ = try TruthLabels.read(data) } == "\(data): /labels: expected labels in -1..<10 (10 classes, -1 unknown), found -5")

            // A selection: indices distinct, labels within num_classes, weights finite and not negative.
            let selection = dir + "/sel.h5"
            func writeSelection(index: [Int], labels: [Int32] = [0, 1, 1], weights: [Float] = [1, 0.5, 0.5]) throws {
                try Selection(index: index, labels: labels, weights: weights, confidence: [1, 0.5, 0.5], labeledCount: 1,
                              sampleCount: 5, classCount: 2, strategy: "ratio").write(selection, inputs: [])
            }
            try writeSelection(index: [0, 2, 2])
            #expect(refusal { _ = try Selection.read(selection) } == "\(selection): /index: expected distinct indices, found 2 more than once")
            try writeSelection(index: [0, 2, 3], labels: [0, 1, 2])
            #expect(refusal { _ = try Selection.read(selection) } == "\(selection): /labels: expected labels in 0..<2 (2 classes), found 2")
            try writeSelection(index: [0, 2, 3], weights: [1, -0.5, 0.5])
            #expect(refusal { _ = try Selection.read(selection) }?.hasPrefix("\(selection): /weights: expected values in 0.0...") == true)
            try writeSelection(index: [0, 2, 3])
            #expect(try Selection.read(selection).index == [0, 2, 3])
        }
    }

    @Test func perSampleDatasetsMustAgreeAndHugeDeclarationsAreRefusedBeforeAllocating() throws {
        try TestSupport.withTemporaryDirectory { dir in
            // 10^9 images of 28x28 declared in a file of a few KB: chunked, never written.
            let path = dir + "/huge.h5"
            let file = try H5File.create(path)
            try file.createDataset("/images", of: UInt8.self, shape: [1_000_000_000, 28, 28, 1], layout: H5Layout(chunkRows: 1))
            try file.write("/labels", [Int32](repeating: 0, count: 10))
            file.close()
            let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
            #expect(size < 64 << 10)
            #expect(refusal { _ = try TruthLabels.read(path) } == "\(path): /labels: expected int32 [N] with N=1000000000, found int32 [10]")
            #expect(refusal { _ = try ImageDataset.read(path) } == "\(path): /labels: expected int32 [N] with N=1000000000, found int32 [10]")

            let agreeing = dir + "/huge2.h5"
            let second = try H5File.create(agreeing)
            try second.createDataset("/images", of: UInt8.self, shape: [1_000_000_000, 28, 28, 1], layout: H5Layout(chunkRows: 1))
            try second.createDataset("/labels", of: Int32.self, shape: [1_000_000_000], layout: H5Layout(chunkRows: 1024))
            second.close()
            let message = try #require(refusal { _ = try ImageDataset.read(agreeing) })
            #expect(message.hasPrefix("\(agreeing): /images: declares uint8 [1000000000,28,28,1] = 784000000000 bytes, more than the "))
            #expect(message.hasSuffix("bytes of memory available (MemAvailable in /proc/meminfo)"))

            // Where the tool has --memory, the budget is the flag's and the refusal says to raise it.
            let split = dir + "/s.h5"
            try writeSplit(split, labeled: [0, 3], labels: [0, 1], unlabeled: Array(4..<200).map(Int64.init), samples: 200)
            let budget = ReadBudget(bytes: 1000, flag: "--memory")
            #expect(try ReadBudget.$current.withValue(ReadBudget(bytes: 4000, flag: "--memory")) { try Split.read(split) }.unlabeled.count == 196)
            #expect(refusal { _ = try ReadBudget.$current.withValue(budget) { try Split.read(split) } }
                    == "\(split): /unlabeled: declares int64 [196] = 1568 bytes, more than the --memory budget of 1000 bytes (raise --memory if the file is right)")

            // Pseudo-labels whose per-sample datasets disagree.
            let pseudo = dir + "/p.h5"
            let hand = try H5File.create(pseudo)
            try hand.write("/probs", [Float](repeating: 0.5, count: 6), shape: [3, 2])
            try hand.write("/labels", [Int32](repeating: 0, count: 3))
            try hand.write("/confidence", [Float](repeating: 0.5, count: 3))
            try hand.write("/weights", [Float](repeating: 0.5, count: 4))
            hand.close()
            #expect(refusal { _ = try PseudoLabels.read(pseudo) } == "\(pseudo): /weights: expected float32 [N] with N=3, found float32 [4]")
        }
    }

    @Test func pcaIsBitIdenticalForAnyThreadCount() throws {
        // Three row chunks of the tall products, so that the split over threads could matter.
        let rows = 10_000, dimension = 48
        var generator = SeededGenerator(seed: 7)
        let data = (0..<(rows * dimension)).map { index in
            Float.random(in: 0...1, using: &generator) * Float(1 + index % dimension)
        }
        let previous = openblas_get_num_threads()
        defer { openblas_set_num_threads(previous) }
        var results: [(PCAProjection, [Float])] = []
        for threads in [1, 2, 3] {
            openblas_set_num_threads(Int32(threads))
            results.append(try Parallel.$threadCount.withValue(threads) {
                var copy = data
                let projection = try PCAProjection.fit(&copy, rows: rows, dimension: dimension, components: 20, whiten: true)
                return (projection, projection.projectCentered(copy, rows: rows))
            })
        }
        let (reference, features) = results[0]
        for (projection, projected) in results.dropFirst() {
            #expect(projection.mean.map(\.bitPattern) == reference.mean.map(\.bitPattern))
            #expect(projection.components.map(\.bitPattern) == reference.components.map(\.bitPattern))
            #expect(projection.scale.map(\.bitPattern) == reference.scale.map(\.bitPattern))
            #expect(projected.map(\.bitPattern) == features.map(\.bitPattern))
        }
        // And the projection is the plain product: row 0 against a direct double-precision dot product.
        let mean = reference.mean
        for axis in 0..<20 {
            var dot = 0.0
            for j in 0..<dimension { dot += Double(data[j] - mean[j]) * Double(reference.components[axis * dimension + j]) }
            #expect(abs(Double(features[axis]) - dot * Double(reference.scale[axis])) <= 1e-3 * max(1, abs(dot * Double(reference.scale[axis]))))
        }
    }

    @Test func numericRangesCheckAndDescribeThemselves() throws {
        func message(_ body: () throws -> Void) -> String? {
            do { try body(); return nil } catch { return "\(error)" }
        }
        #expect(message { try NumericChecks.check(0.0, .fraction, "--ratio") } == "--ratio must be in (0, 1], got 0.0")
        #expect(message { try NumericChecks.check(1.0, .fraction, "--ratio") } == nil)
        #expect(message { try NumericChecks.check(Double.nan, .positive, "--temperature") } == "--temperature must be > 0, got nan")
        #expect(message { try NumericChecks.check(Double.infinity, .nonNegative, "--gamma") } == "--gamma must be >= 0, got inf")
        #expect(message { try NumericChecks.check(0, .atLeast(1), "-k") } == "-k must be >= 1, got 0")
        #expect(message { try NumericChecks.check(Int?.none, .atLeast(1), "-k") } == nil)
        #expect(message { try NumericChecks.check(1.0, .openUnit, "--alpha") } == "--alpha must be in (0, 1), got 1.0")
        #expect(message { try NumericChecks.check(0.0, .unit, "--threshold") } == nil)
        #expect(message { try NumericChecks.check(-0.5, NumericRange(upper: 2, upperOpen: true), "--alpha") } == nil)
        #expect(NumericChecks.help("Temperature", .positive).abstract == "Temperature (> 0)")
    }
}
