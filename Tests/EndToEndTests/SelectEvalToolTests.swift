import Foundation
import MTCore
import MTStorage
import Testing
import TestSupport

/// Runs the built mt-select pseudo and mt-eval pseudo on small files written here, and on bad inputs.
@Suite struct SelectEvalToolTests {
    /// Seven samples, sample 0 labelled, sample 6 of unknown truth (the same case as the unit tests).
    func writeInputs(_ dir: String, weights: [Float]? = nil) throws {
        let truth: [Int32] = [0, 0, 1, 1, 0, 1, -1]
        try Features(values: [Float](repeating: 0, count: 14), count: 7, dimension: 2, labels: truth, model: "test",
                     normalized: false).write(dir + "/truth.h5", inputs: [])
        try PseudoLabels(probs: [1, 0, 0.9, 0.1, 0.2, 0.8, 0.95, 0.05, 0.6, 0.4, 0.7, 0.3, 0.01, 0.99],
                         labels: [0, 0, 1, 0, 0, 0, 1], confidence: [1, 0.9, 0.8, 0.95, 0.6, 0.7, 0.99], weights: weights,
                         count: 7, classCount: 2, labeled: [0], labeledLabels: [0], method: "knn")
            .write(dir + "/knn.h5", inputs: [])
    }

    @Test func selectThenEvaluateWithEveryOutput() throws {
        try TestSupport.withTemporaryDirectory { dir in
            try writeInputs(dir)
            // One label for two classes: by default (--balance auto) the uniform prior is applied first.
            let automatic = try TestSupport.run("mt-select", ["pseudo", dir + "/knn.h5", "--ratio", "1", "-o", dir + "/auto.h5"])
            #expect(automatic.status == 0 && automatic.stderr.contains("balanced the classes to the uniform prior first (--balance auto"), "\(automatic.stderr)")
            let balanced = try H5File.open(dir + "/auto.h5")
            #expect(balanced.stringAttribute("balance") == "prior" && balanced.stringAttribute("prior") == "uniform")
            #expect(try Selection.read(dir + "/auto.h5").labels.filter { $0 == 1 }.count > 1)
            let select = try TestSupport.run("mt-select", ["pseudo", dir + "/knn.h5", "--ratio", "0.5", "--balance", "none", "-o", dir + "/sel.h5"])
            #expect(select.status == 0, "\(select.stderr)")
            #expect(select.stderr.contains("selected 4 samples (1 labelled + 3 of 6 unlabelled, ratio)"))
            let selection = try Selection.read(dir + "/sel.h5")
            #expect(selection.index == [0, 6, 3, 1])
            #expect(selection.labels == [0, 1, 0, 0])
            #expect(selection.weights == [1, 0.99, 0.95, 0.9])
            let file = try H5File.open(dir + "/sel.h5")
            #expect(file.stringAttribute("mt_kind") == "selection")
            #expect(file.stringAttribute("strategy") == "ratio" && file.doubleAttribute("ratio") == 0.5)
            #expect(file.intAttribute("num_labeled") == 1)

            let eval = try TestSupport.run("mt-eval", ["pseudo", dir + "/knn.h5", dir + "/sel.h5", "--truth", dir + "/truth.h5",
                                                       "--name", "knn", "--name", "top half", "--json", dir + "/eval.json",
                                                       "-o", dir + "/eval.h5", "--plot", dir + "/plots"])
            #expect(eval.status == 0, "\(eval.stderr)")
            let lines = eval.stdout.split(separator: "\n").map(String.init)
            #expect(lines[2] == "knn       pseudo-labels          5     60.00  45.33     0.00     0.00    66.67     60.00")
            #expect(lines[3] == "top half  selection              2     50.00  25.00     0.00     0.00     0.00     50.00")

            let runs = try MetricsFile.read(dir + "/eval.h5")
            #expect(runs.map(\.name) == ["knn", "top half"])
            #expect(runs[0].scalar("accuracy") == 0.6 && runs[0].confusion == [2, 0, 2, 1])
            #expect(runs[1].kind == "selection" && runs[1].scalar("evaluated") == 2)
            #expect(try H5File.open(dir + "/eval.h5").attribute("mt_inputs") == .strings([dir + "/knn.h5", dir + "/sel.h5", dir + "/truth.h5"]))

            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/eval.json"))) as! [String: Any]
            let scalars = (json["runs"] as! [[String: Any]]).map { $0["scalars"] as! [String: Double] }
            #expect(scalars.map { $0["accuracy"] } == [0.6, 0.5])

            #expect(TestSupport.files(in: dir + "/plots") == ["accuracy-coverage.png", "confusion-knn.png", "confusion-top half.png"])
            let curves = try PixelImage.readPNG(dir + "/plots/accuracy-coverage.png")
            #expect(curves.width == 960 && curves.height == 640)
            #expect(Set(curves.pixels).count > 20)
            #expect(TestSupport.files(in: dir).allSatisfy { !$0.hasPrefix(".") })
        }
    }

    @Test func everyStrategyAndBalancingRun() throws {
        try TestSupport.withTemporaryDirectory { dir in
            try writeInputs(dir, weights: [1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.25])
            for arguments in [["--per-class-top", "1"], ["--threshold", "0.9", "--weights", "nc"], ["--reliable", "1", "--weights", "uniform"],
                              ["--ratio", "1", "--balance", "sinkhorn", "--prior", "labeled", "--sinkhorn-iterations", "5"],
                              ["--ratio", "1", "--balance", "sinkhorn", "--sinkhorn-lambda", "2", "--sinkhorn-tolerance", "1e-9"]] {
                let result = try TestSupport.run("mt-select", ["pseudo", dir + "/knn.h5", "-o", dir + "/sel.h5"] + arguments)
                #expect(result.status == 0, "\(arguments): \(result.stderr)")
            }
            // The labelled set is all class 0, so the labelled prior sends every sample to class 0.
            let prior = try TestSupport.run("mt-select", ["pseudo", dir + "/knn.h5", "-o", dir + "/sel.h5", "--ratio", "1",
                                                          "--balance", "sinkhorn", "--prior", "labeled"])
            #expect(prior.status == 0 && !prior.stderr.contains("warning"))
            #expect(try Selection.read(dir + "/sel.h5").labels == [0, 0, 0, 0, 0, 0, 0])
            let threshold = try TestSupport.run("mt-select", ["pseudo", dir + "/knn.h5", "-o", dir + "/sel.h5", "--threshold", "0.9", "--weights", "nc",
                                                              "--balance", "none"])
            #expect(threshold.status == 0)
            #expect(try Selection.read(dir + "/sel.h5").weights == [1, 0.25, 0.5, 0.5])
        }
    }

    /// Real digits: PCA features and a 3-per-class split from the tools, soft nearest-labelled-neighbour
    /// pseudo-labels computed here, then selection and evaluation. Confidence must rank: the selected
    /// most confident half is more accurate than all pseudo-labels, and the AUC exceeds the accuracy.
    @Test(.needsMNIST) func realMNISTSubset() throws {
        let mnist = try #require(TestSupport.mnistDirectory)
        try TestSupport.withTemporaryDirectory { dir in
            for (tool, arguments) in [("mt-features", ["import", "mnist", mnist, "--split", "train", "--limit", "2000", "-o", dir + "/train.h5"]),
                                      ("mt-features", ["extract", dir + "/train.h5", "--model", "pca:32", "-o", dir + "/pca.h5"]),
                                      ("mt-select", ["split", dir + "/pca.h5", "--per-class", "3", "--seed", "0", "-o", dir + "/split.h5"])] {
                let result = try TestSupport.run(tool, arguments + ["-q"])
                #expect(result.status == 0, "\(result.stderr)")
            }
            let features = try Features.read(dir + "/pca.h5"), split = try Split.read(dir + "/split.h5")
            let (n, d, c) = (features.count, features.dimension, 10)
            var probs = [Float](repeating: 0, count: n * c)
            for sample in 0..<n {
                for (index, label) in zip(split.labeled, split.labeledLabels) {
                    let similarity = (0..<d).reduce(Float(0)) { $0 + features.values[sample * d + $1] * features.values[index * d + $1] }
                    probs[sample * c + Int(label)] += exp(similarity / 0.1)
                }
                let total = probs[(sample * c)..<((sample + 1) * c)].reduce(0, +)
                for k in 0..<c { probs[sample * c + k] /= total }
            }
            let labels = (0..<n).map { s in Int32((0..<c).max { probs[s * c + $0] < probs[s * c + $1] }!) }
            try PseudoLabels(probs: probs, labels: labels, confidence: (0..<n).map { probs[$0 * c + Int(labels[$0])] },
                             count: n, classCount: c, labeled: split.labeled, labeledLabels: split.labeledLabels, method: "test")
                .write(dir + "/pseudo.h5", inputs: [])
            #expect(try TestSupport.run("mt-select", ["pseudo", dir + "/pseudo.h5", "--ratio", "0.5", "-q", "-o", dir + "/sel.h5"]).status == 0)
            let eval = try TestSupport.run("mt-eval", ["pseudo", dir + "/pseudo.h5", dir + "/sel.h5", "--truth", dir + "/train.h5",
                                                       "-o", dir + "/eval.h5", "--plot", dir + "/plots"])
            #expect(eval.status == 0, "\(eval.stderr)")
            let runs = try MetricsFile.read(dir + "/eval.h5")
            let all = runs[0].scalar("accuracy")!, top = runs[1].scalar("accuracy")!
            #expect(runs[0].scalar("evaluated") == 1970 && runs[1].scalar("evaluated") == 985)
            #expect(all > 0.5 && top > all && runs[0].scalar("auc")! > all, "accuracy \(all), top half \(top)")
            #expect(runs[0].classNames == (0..<10).map(String.init))
            #expect(try PixelImage.readPNG(dir + "/plots/confusion-pseudo.png").width > 300)
        }
    }

    @Test func helpShowsExamples() throws {
        let select = try TestSupport.run("mt-select", ["pseudo", "--help"])
        #expect(select.status == 0 && select.stdout.contains("mt-select pseudo knn.h5 --ratio 0.5 -o train-set.h5"))
        let eval = try TestSupport.run("mt-eval", ["pseudo", "--help"])
        #expect(eval.status == 0 && eval.stdout.contains("--truth mnist-train.h5 --plot plots"))
    }

    /// `mt-select clean` writes a class-balanced pool from pseudo-labels and their features, and refuses
    /// features of another data set.
    @Test func cleanWritesAPoolAndRefusesMismatchedFeatures() throws {
        try TestSupport.withTemporaryDirectory { dir in
            try writeInputs(dir)
            let run = try TestSupport.run("mt-select", ["clean", dir + "/knn.h5", "--features", dir + "/truth.h5", "--per-class", "1",
                                                        "--epochs", "20", "-q", "-o", dir + "/pool.h5"])
            #expect(run.status == 0, "\(run.stderr)")
            let pool = try Selection.read(dir + "/pool.h5")
            let kept = pool.labels.dropFirst(pool.labeledCount)
            #expect(pool.strategy == "small-loss" && pool.parameters["cleaning_epochs"] == .int(20))
            #expect(Dictionary(grouping: kept, by: { $0 }).values.allSatisfy { $0.count == 1 })
            try Features(values: [0, 0], count: 2, dimension: 1, labels: [0, 1], model: "test", normalized: false).write(dir + "/short.h5", inputs: [])
            try expectRefused("mt-select", ["clean", dir + "/knn.h5", "--features", dir + "/short.h5", "--per-class", "1", "-o", dir + "/p2.h5"],
                              in: dir, mentioning: "short.h5: /features: expected one row per sample of \(dir)/knn.h5 (7), found 2")
        }
    }

    /// `mt-eval cluster` on a pseudo-labels file read as cluster ids: the table, JSON, metrics artifact and confusion picture.
    @Test func clusterMetricsOfAssignments() throws {
        try TestSupport.withTemporaryDirectory { dir in
            try writeInputs(dir)
            let run = try TestSupport.run("mt-eval", ["cluster", dir + "/knn.h5", "--truth", dir + "/truth.h5", "--json", dir + "/c.json",
                                                      "-o", dir + "/c.h5", "--plot", dir + "/plots"])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stdout.contains("nmi") && run.stdout.contains("hungarian_accuracy"), "\(run.stdout)")
            let metrics = try MetricsFile.read(dir + "/c.h5")[0]
            // Truth 0 0 1 1 0 1 (one unknown), clusters 0 0 1 0 0 0: the Hungarian mapping 0->0, 1->1 gets 4 of 6.
            #expect(metrics.kind == "clusters" && metrics.scalar("evaluated") == 6 && metrics.scalar("hungarian_accuracy") == 4.0 / 6)
            #expect(metrics.scalar("purity") == 4.0 / 6)
            #expect(FileManager.default.fileExists(atPath: dir + "/plots/confusion-knn.png"))
            try expectRefused("mt-eval", ["cluster", dir + "/truth.h5", "--truth", dir + "/truth.h5"], in: dir,
                              mentioning: "truth.h5: expected mt_kind pseudo-labels, found 'features'")
        }
    }

    @Test func badInputsAreRefusedCleanly() throws {
        try TestSupport.withTemporaryDirectory { dir in
            try writeInputs(dir)
            let outputs = ["--json", dir + "/e.json", "-o", dir + "/e.h5", "--plot", dir + "/plots"]
            try Features(values: [0, 0], count: 2, dimension: 1, labels: [0, 1], model: "test", normalized: false)
                .write(dir + "/short.h5", inputs: [])
            try expectRefused("mt-eval", ["pseudo", dir + "/knn.h5", "--truth", dir + "/short.h5"] + outputs, in: dir,
                              mentioning: "mt-eval: \(dir)/knn.h5: expected 2 samples (as in the truth file), found 7")
            try expectRefused("mt-eval", ["pseudo", dir + "/truth.h5", "--truth", dir + "/truth.h5"] + outputs, in: dir,
                              mentioning: "truth.h5: expected mt_kind pseudo-labels or selection, found 'features'")
            try expectRefused("mt-eval", ["pseudo", dir + "/knn.h5", "--truth", dir + "/knn.h5"] + outputs, in: dir,
                              mentioning: "knn.h5: expected mt_kind dataset or features, found 'pseudo-labels'")
            try expectRefused("mt-eval", ["pseudo", dir + "/knn.h5", "--truth", dir + "/missing.h5"] + outputs, in: dir,
                              mentioning: "missing.h5: no such file")
            try expectRefused("mt-eval", ["pseudo", dir + "/knn.h5", "--truth", dir + "/truth.h5", "--name", "a", "--name", "b"] + outputs,
                              in: dir, mentioning: "--name given 2 times for 1 inputs")
            try expectRefused("mt-eval", ["pseudo", dir + "/knn.h5", "--truth", dir + "/truth.h5", "--json", dir + "/nodir/e.json"],
                              in: dir, mentioning: "output directory \(dir)/nodir does not exist")

            try Data().write(to: URL(fileURLWithPath: dir + "/afile"))
            try expectRefused("mt-eval", ["pseudo", dir + "/knn.h5", "--truth", dir + "/truth.h5", "--plot", dir + "/afile", "-o", dir + "/e.h5"],
                              in: dir, mentioning: "afile: is a file, expected a directory for --plot")

            let badLabels = try H5File.create(dir + "/badlabels.h5")
            try badLabels.write("/probs", [Float](repeating: 0.5, count: 4), shape: [2, 2])
            try badLabels.write("/labels", [Int32(0), 5])
            try badLabels.write("/confidence", [Float(0.5), 0.5])
            badLabels.close()
            try expectRefused("mt-select", ["pseudo", dir + "/badlabels.h5", "--ratio", "1", "-o", dir + "/s.h5"], in: dir,
                              mentioning: "badlabels.h5: /labels: expected labels in 0..<2 (2 classes), found 5")
            try expectRefused("mt-select", ["pseudo", dir + "/truth.h5", "--ratio", "1", "-o", dir + "/s.h5"], in: dir,
                              mentioning: "expected mt_kind pseudo-labels, found 'features'")
            try expectRefused("mt-select", ["pseudo", dir + "/knn.h5", "--ratio", "1", "--weights", "nc", "-o", dir + "/s.h5"], in: dir,
                              mentioning: "knn.h5: /weights: expected float32 [N] for --weights nc, found none")
            let twoStrategies = try TestSupport.run("mt-select", ["pseudo", dir + "/knn.h5", "--ratio", "1", "--threshold", "0.5", "-o", dir + "/s.h5"])
            #expect(twoStrategies.status == 2 && twoStrategies.stderr.contains("give exactly one of --ratio"))
            #expect(!FileManager.default.fileExists(atPath: dir + "/s.h5"))
        }
    }
}
