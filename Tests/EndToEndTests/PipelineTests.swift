import Foundation
import MTCore
import MTStorage
import Testing
import TestSupport

/// Runs the Make pipelines on small real data through every stage and every propagation method.
@Suite(.serialized) struct PipelineTests {
    static let pipelines = TestSupport.repositoryRoot + "/pipelines"

    func make(_ pipeline: String, _ variables: [String], _ targets: [String], question: Bool = false) throws -> ToolResult {
        try TestSupport.execute("/usr/bin/env", ["make", "--no-print-directory", "-f", "\(Self.pipelines)/\(pipeline)"]
            + (question ? ["-q"] : []) + ["MT_BIN=\(TestSupport.binDirectory)"] + variables + targets)
    }

    func kind(_ path: String) throws -> String? { try H5File.open(path).stringAttribute("mt_kind") }

    func modificationDate(_ path: String) throws -> Date {
        try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as! Date
    }

    @Test(.needsMNIST) func mnistSubsetThroughEveryStageAndPropagation() throws {
        let mnist = try #require(TestSupport.mnistDirectory)
        try TestSupport.withTemporaryDirectory { out in
            let common = ["MNIST_DIR=\(mnist)", "OUT=\(out)", "LIMIT=1000", "LABELS_PER_CLASS=5", "EIGENPAIRS=30", "EPOCHS=1"]
            let root = out + "/mnist-first1000"
            for propagation in ["knn", "spread", "ncut"] {
                let variables = common + ["PROPAGATION=\(propagation)"]
                let run = try make("mnist.mk", variables, ["evaluate"])
                #expect(run.status == 0, "\(propagation): \(run.stderr)")
                #expect(try make("mnist.mk", variables, ["evaluate"], question: true).status == 0,
                        "\(propagation): a second make would redo work")
            }
            let stage = root + "/pca50"
            #expect(try kind(root + "/data/train.h5") == "dataset")
            #expect(try kind(root + "/splits/split-n5-s0.h5") == "split")
            #expect(try kind(stage + "/features-train.h5") == "features")
            #expect(try kind(stage + "/graph-k20.h5") == "graph")
            #expect(try kind(stage + "/eigen-k20-n30.h5") == "eigen")
            for method in ["knn", "spread-k20", "ncut-k20-n30"] {
                let run = "\(stage)/\(method)/n5-s0"
                #expect(try kind(run + "/pseudo.h5") == "pseudo-labels")
                #expect(try kind(run + "/select-ratio0.5-confidence/selection.h5") == "selection")
                #expect(try kind(run + "/select-ratio0.5-confidence/mnist-cnn-e1/model.h5") == "checkpoint")
                let metrics = try Data(contentsOf: URL(fileURLWithPath: run + "/pseudo-metrics.json"))
                #expect(try JSONSerialization.jsonObject(with: metrics) is [String: Any])
                #expect(FileManager.default.fileExists(atPath: run + "/select-ratio0.5-confidence/mnist-cnn-e1/test-metrics.json"))
            }

            // Changing the seed redoes the split and what follows it, nothing before it.
            let features = try modificationDate(stage + "/features-train.h5")
            let eigen = try modificationDate(stage + "/eigen-k20-n30.h5")
            let reseeded = try make("mnist.mk", common + ["PROPAGATION=ncut", "SEED=1"], ["pseudo"])
            #expect(reseeded.status == 0, "\(reseeded.stderr)")
            #expect(!reseeded.stdout.contains("mt-features") && !reseeded.stdout.contains("mt-ncut eigen"))
            #expect(reseeded.stdout.contains("mt-select split") && reseeded.stdout.contains("mt-ncut propagate"))
            #expect(try modificationDate(stage + "/features-train.h5") == features)
            #expect(try modificationDate(stage + "/eigen-k20-n30.h5") == eigen)
            #expect(try kind(stage + "/ncut-k20-n30/n5-s1/pseudo.h5") == "pseudo-labels")
        }
    }

    /// The outputs `make -n` would write (`-o` and `--json` arguments of the tools), relative to `root`.
    func wouldRemake(_ variables: [String], _ targets: [String], root: String) throws -> [String] {
        let run = try make("mnist.mk", variables + ["-n"], targets)
        #expect(run.status == 0, "\(run.stderr)")
        return run.stdout.split(separator: "\n").compactMap { line in
            guard line.contains(TestSupport.binDirectory + "/mt-") else { return nil }
            let words = line.split(separator: " ").map(String.init)
            guard let flag = words.firstIndex(where: { $0 == "-o" || $0 == "--json" }), flag + 1 < words.count else { return nil }
            return words[flag + 1].replacingOccurrences(of: root + "/", with: "")
        }
    }

    /// Every pipeline variable that changes an artifact reruns exactly the stages it reaches: through the file
    /// name, or through the command recorded in FILE.cmd (the Linux kernel's .cmd idea). Output-neutral
    /// flags (THREADS) rerun nothing; an unfinished training run is continued only by the command that began it.
    @Test(.needsMNIST) func everyVariableRerunsExactlyTheStagesItReaches() throws {
        let mnist = try #require(TestSupport.mnistDirectory)
        try TestSupport.withTemporaryDirectory { out in
            let common = ["MNIST_DIR=\(mnist)", "OUT=\(out)", "LIMIT=1000", "LABELS_PER_CLASS=5", "EIGENPAIRS=30", "ITERATIONS=2"]
            let root = out + "/mnist-first1000"
            for propagation in ["knn", "spread"] {
                #expect(try make("mnist.mk", common + ["PROPAGATION=\(propagation)"], ["pseudo"]).status == 0)
            }
            let built = try make("mnist.mk", common, ["evaluate"])
            #expect(built.status == 0, "\(built.stderr)")
            #expect(try wouldRemake(common, ["evaluate"], root: root).isEmpty)

            let ncut = "pca50/ncut-k20-n30/n5-s0"
            let model = "\(ncut)/select-ratio0.5-confidence/mnist-cnn-i2"
            let training = ["\(model)/model.h5", "\(model)/test-metrics.json"]
            let selection = ["\(ncut)/select-ratio0.5-confidence/selection.h5"] + training
            let propagation = ["\(ncut)/pseudo.h5"] + selection + ["\(ncut)/pseudo-metrics.json"]
            let expected: [(variables: [String], target: String, remade: [String])] = [
                (["THREADS=1"], "evaluate", []),
                (["TRAIN_FLAGS=--lr 0.01"], "evaluate", training),
                (["SELECT_FLAGS=--balance sinkhorn"], "evaluate", selection),
                (["TEMPERATURE=0.2"], "evaluate", propagation),
                (["ALPHA=0.5"], "evaluate", propagation),
                (["PROPAGATE_FLAGS=--skip 2"], "evaluate", propagation),
                (["SIGMA=0.05"], "evaluate", ["pca50/eigen-k20-n30.h5"] + propagation),
                (["WEIGHTS=uniform"], "evaluate", ["\(ncut)/select-ratio0.5-uniform/selection.h5",
                                                   "\(ncut)/select-ratio0.5-uniform/mnist-cnn-i2/model.h5",
                                                   "\(ncut)/select-ratio0.5-uniform/mnist-cnn-i2/test-metrics.json"]),
                (["PROPAGATION=knn", "VOTERS=3"], "pseudo", ["pca50/knn/n5-s0/pseudo.h5", "pca50/knn/n5-s0/pseudo-metrics.json"]),
                (["PROPAGATION=knn", "TEMPERATURE=0.5"], "pseudo", ["pca50/knn/n5-s0/pseudo.h5", "pca50/knn/n5-s0/pseudo-metrics.json"]),
                (["PROPAGATION=knn", "ALPHA=0.5"], "pseudo", []),
                (["PROPAGATION=spread", "ALPHA=0.5"], "pseudo", ["pca50/spread-k20/n5-s0/pseudo.h5", "pca50/spread-k20/n5-s0/pseudo-metrics.json"]),
                (["PRIOR=uniform"], "pseudo", ["pca50/ncut-k20-n30-prior-uniform/n5-s0/pseudo.h5", "pca50/ncut-k20-n30-prior-uniform/n5-s0/pseudo-metrics.json"]),
                (["PRIOR=uniform", "PRIOR_LAMBDA=2"], "pseudo", ["pca50/ncut-k20-n30-prior-uniform-l2/n5-s0/pseudo.h5",
                                                                 "pca50/ncut-k20-n30-prior-uniform-l2/n5-s0/pseudo-metrics.json"]),
                (["PCA_WHITEN=yes"], "features", ["pca50w/features-train.h5"]),
                (["MNIST_DIR=\(mnist)/"], "split", ["data/train.h5", "splits/split-n5-s0.h5"]),
            ]
            for (variables, target, remade) in expected {
                let found = try wouldRemake(common + variables, [target], root: root)
                #expect(Set(found) == Set(remade) && found.count == remade.count, "\(variables): make would remake \(found), expected \(remade)")
            }

            // A real rerun with new flags records them: afterwards the same flags are up to date, the old ones not.
            let retrained = try make("mnist.mk", common + ["TRAIN_FLAGS=--lr 0.01"], ["evaluate"])
            #expect(retrained.status == 0, "\(retrained.stderr)")
            #expect(try make("mnist.mk", common + ["TRAIN_FLAGS=--lr 0.01"], ["evaluate"], question: true).status == 0)
            #expect(try make("mnist.mk", common, ["evaluate"], question: true).status != 0)

            // An interrupted run leaves model.partial.h5 and no model.h5: make continues it when the command that
            // began it is today's, and starts over otherwise.
            let trained = root + "/" + model + "/model"
            let began = try String(contentsOfFile: trained + ".h5.cmd", encoding: .utf8)
            try FileManager.default.moveItem(atPath: trained + ".h5", toPath: trained + ".partial.h5")
            try began.write(toFile: trained + ".partial.cmd", atomically: true, encoding: .utf8)
            let same = try make("mnist.mk", common + ["TRAIN_FLAGS=--lr 0.01", "-n"], ["model"])
            #expect(same.stdout.contains("mt-train classifier") && same.stdout.contains("--resume"), "\(same.stdout)")
            let other = try make("mnist.mk", common + ["TRAIN_FLAGS=--lr 0.02", "-n"], ["model"])
            #expect(other.stdout.contains("mt-train classifier") && !other.stdout.contains("--resume"), "\(other.stdout)")
            let continued = try make("mnist.mk", common + ["TRAIN_FLAGS=--lr 0.01"], ["model"])
            #expect(continued.status == 0, "\(continued.stderr)")
            #expect(!FileManager.default.fileExists(atPath: trained + ".partial.h5") && !FileManager.default.fileExists(atPath: trained + ".partial.cmd"))
            #expect(try kind(trained + ".h5") == "checkpoint", "a resumed run with no epochs left is the finished model")
        }
    }

    /// SSL=method swaps propagation and finetuning for a semi-supervised method (beside the supervised
    /// baseline), SSL_LABELS=propagated chains them: the selection joins the labelled set.
    @Test(.needsMNIST) func sslTargetTrainsAloneOrOnThePropagatedSelection() throws {
        let mnist = try #require(TestSupport.mnistDirectory)
        try TestSupport.withTemporaryDirectory { out in
            let common = ["MNIST_DIR=\(mnist)", "OUT=\(out)", "LIMIT=1000", "LABELS_PER_CLASS=5", "EIGENPAIRS=30", "PROPAGATION=knn",
                          "SSL_ITERATIONS=2", "SSL_FLAGS=--batch-size 8 --mu 2"]
            let root = out + "/mnist-first1000"
            let alone = try make("mnist.mk", common + ["SSL=fixmatch"], ["ssl"])
            #expect(alone.status == 0, "\(alone.stderr)")
            let model = root + "/ssl/n5-s0/fixmatch-mnist-cnn-i2"
            #expect(try kind(model + "/model.h5") == "checkpoint")
            #expect(FileManager.default.fileExists(atPath: model + "/test-metrics.json"))
            #expect(!alone.stdout.contains("mt-knn propagate"), "alone, no propagation runs")
            let chained = try make("mnist.mk", common + ["SSL=flexmatch", "SSL_LABELS=propagated"], ["ssl"])
            #expect(chained.status == 0, "\(chained.stderr)")
            let selection = root + "/pca50/knn/n5-s0/select-ratio0.5-confidence"
            #expect(chained.stdout.contains("--labeled-from \(selection)/selection.h5"), "\(chained.stdout)")
            #expect(try kind(selection + "/ssl-flexmatch-mnist-cnn-i2/model.h5") == "checkpoint")
            #expect(try make("mnist.mk", common + ["SSL=flexmatch", "SSL_LABELS=propagated"], ["ssl"], question: true).status == 0)
            let missing = try make("mnist.mk", common, ["ssl"])
            #expect(missing.status != 0 && missing.stderr.contains("SSL="), "\(missing.stderr)")
        }
    }

    /// The two chained recipes as make targets: teacher/student (teacher on the labels -> predictions ->
    /// top-K x P -> student -> finetuned student) and ReLaB (propagation -> cleaned pool -> classifier),
    /// their parameters in the artifact names, each stage's command recorded.
    @Test(.needsMNIST) func teacherStudentAndRelabTargets() throws {
        let mnist = try #require(TestSupport.mnistDirectory)
        try TestSupport.withTemporaryDirectory { out in
            let common = ["MNIST_DIR=\(mnist)", "OUT=\(out)", "LIMIT=1000", "ITERATIONS=4", "LABELS_PER_CLASS=5", "PROPAGATION=knn"]
            let run = try make("mnist.mk", common + ["TOP_K=30", "TOP_P=2", "POOL=20"], ["teacher-student", "relab"])
            #expect(run.status == 0, "\(run.stderr)")
            let root = out + "/mnist-first1000"
            let teacher = root + "/supervised/n5-s0/mnist-cnn-i4"
            for path in [teacher + "/test-metrics.json", teacher + "/predictions.h5", teacher + "/students/top30x2/selection.h5",
                         teacher + "/students/top30x2/mnist-cnn-i4/test-metrics.json",
                         teacher + "/students/top30x2/mnist-cnn-i4/finetuned/test-metrics.json",
                         root + "/pca50/knn/n5-s0/relab-p20/pool.h5", root + "/pca50/knn/n5-s0/relab-p20/pool-metrics.json",
                         root + "/pca50/knn/n5-s0/relab-p20/mnist-cnn-i4/test-metrics.json"] {
                #expect(FileManager.default.fileExists(atPath: path), "\(path) missing")
            }
            #expect(try kind(teacher + "/predictions.h5") == "pseudo-labels")
            #expect(run.stdout.contains("--per-class-top 30 --top-classes 2 --exclude-labeled"), "\(run.stdout)")
            #expect(try make("mnist.mk", common + ["TOP_K=30", "TOP_P=2", "POOL=20"], ["teacher-student", "relab"], question: true).status == 0)
            // A new P is a new student; the teacher and its predictions stay.
            let again = try make("mnist.mk", common + ["TOP_K=30", "TOP_P=1", "POOL=20"], ["teacher-student"])
            #expect(again.status == 0 && !again.stdout.contains("mt-train predict") && again.stdout.contains("top30x1"), "\(again.stdout)")
        }
    }

    /// The active loop: two rounds of propagate -> query -> oracle answers, each split holding the last one's
    /// labels plus the budget; with ORACLE_LABELS=no make stops and says which table to fill in.
    @Test(.needsMNIST) func activeTargetAsksAndAnswersEachRound() throws {
        let mnist = try #require(TestSupport.mnistDirectory)
        try TestSupport.withTemporaryDirectory { out in
            let common = ["MNIST_DIR=\(mnist)", "OUT=\(out)", "LIMIT=1000", "ITERATIONS=4", "LABELS_PER_CLASS=1", "ACTIVE_ROUNDS=2", "ACTIVE_BUDGET=5"]
            let run = try make("mnist.mk", common, ["active"])
            #expect(run.status == 0, "\(run.stderr)")
            let loop = out + "/mnist-first1000/pca50/ncut-k20-n200/active-margin-b5/n1-s0"
            for round in 1...2 {
                let split = try Split.read("\(loop)/round\(round)/split.h5")
                #expect(split.labeled.count == 10 + 5 * round, "round \(round)")
            }
            let table = try String(contentsOfFile: loop + "/pseudo-by-round.txt", encoding: .utf8)
            #expect(table.contains("round0") && table.contains("round2"))
            #expect(FileManager.default.fileExists(atPath: loop + "/round2/select-ratio0.5-confidence/mnist-cnn-i4/test-metrics.json"))
            #expect(try make("mnist.mk", common, ["active"], question: true).status == 0)

            let human = try make("mnist.mk", common + ["ORACLE_LABELS=no", "QUERY=random"], ["active"])
            #expect(human.status != 0 && human.stderr.contains("active-random-b5/n1-s0/round0/queries.csv (fill label or class_name), save the table as"),
                    "\(human.stderr)")
        }
    }

    /// The table target on MNIST-1000: a baseline metric, kNN voting, finetuning for a few steps, the
    /// supervised-only and all-labels baselines, a second round whose metric is the first round's classifier,
    /// and results.md with every number filled in from the artifacts.
    @Test(.needsMNIST) func mnistSubsetTableWithRoundsAndBaselines() throws {
        let mnist = try #require(TestSupport.mnistDirectory)
        try TestSupport.withTemporaryDirectory { out in
            let variables = ["MNIST_DIR=\(mnist)", "OUT=\(out)", "LIMIT=1000", "SELECT=ratio:1", "ITERATIONS=8", "ORACLE_EPOCHS=1",
                             "TABLE_LABELS=2", "TABLE_SEEDS=0", "TABLE_PROPAGATIONS=knn", "TABLE_BASELINES=pixels", "TABLE_ROUNDS=2",
                             "TABLE_SSL=fixmatch", "SSL_ITERATIONS=2", "SSL_FLAGS=--batch-size 8 --mu 2",
                             "TABLE_TEACHER_STUDENT=50x2", "TABLE_RELAB=20"]
            let run = try make("mnist.mk", variables, ["table"])
            #expect(run.status == 0, "\(run.stderr)")
            let root = out + "/mnist-first1000"
            let first = root + "/pca50/knn/n2-s0/select-ratio1-confidence/mnist-cnn-i8"
            let second = first + "/round2/knn/n2-s0/select-ratio1-confidence/mnist-cnn-i8"
            #expect(try kind(second + "/model.h5") == "checkpoint")
            // Round 2 embeds with round 1's classifier and starts from it.
            let features = try H5File.open(first + "/round2/features-train.h5")
            #expect(features.stringAttribute("model")?.hasPrefix(first + "/model.h5") == true)
            guard case .strings(let inputs)? = try H5File.open(second + "/model.h5").attribute("mt_inputs") else {
                Issue.record("round 2's model has no mt_inputs list")
                return
            }
            #expect(inputs.contains(first + "/model.h5"), "round 2 should start from round 1's classifier: \(inputs)")
            for path in [root + "/pixels/metric-test.json", root + "/pca50/metric-test.json", root + "/pixels/knn/n2-s0/pseudo-metrics.json",
                         root + "/supervised/n2-s0/mnist-cnn-i8/test-metrics.json", root + "/oracle/mnist-cnn-e1/test-metrics.json",
                         second + "/test-metrics.json"] {
                #expect(FileManager.default.fileExists(atPath: path), "\(path) missing")
            }
            let results = try String(contentsOfFile: root + "/table-pca50-ratio1-confidence-mnist-cnn-i8/results.md", encoding: .utf8)
            let rows = results.split(separator: "\n").filter { $0.hasPrefix("| ") && !$0.hasPrefix("| ---") }
            for label in ["| pixels |", "| pca50 |", "| supervised only", "| knn, pixels |", "| knn, pca50, finetuned |",
                          "| knn, pca50, round 2 |", "| knn, pca50, round 2, finetuned |", "| all labels (upper bound)", "| finetune (mnist-cnn-i8) |",
                          "| fixmatch (semi-supervised", "| student on the teacher's top 50 per class x top 2 classes |",
                          "| student on the teacher's top 50 per class x top 2 classes, finetuned |", "| knn, pca50, ReLaB pool of 20 per class |",
                          "| knn, pca50, trained on the ReLaB pool of 20 per class |"] {
                let row = rows.first { $0.hasPrefix(label) }
                #expect(row != nil, "no row \(label) in\n\(results)")
                #expect(row?.contains("–") == false, "a number is missing in \(row ?? "")")
            }
            // A round-1 target is still up to date after the sweep.
            #expect(try make("mnist.mk", variables + ["PROPAGATION=knn", "LABELS_PER_CLASS=2"], ["evaluate"], question: true).status == 0)
        }
    }

    /// CIFAR-format batches in which each class is its own random +-100 pattern around gray 128, plus
    /// noise, so propagation has something to find.
    func writeCIFARFixture(_ directory: String, recordsPerFile: Int) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var generator = SeededGenerator(seed: 3)
        let patterns = (0..<10).map { _ in (0..<3072).map { _ in generator.next() & 1 == 0 ? Float(-100) : 100 } }
        for name in (1...5).map({ "data_batch_\($0).bin" }) + ["test_batch.bin"] {
            var bytes: [UInt8] = []
            for record in 0..<recordsPerFile {
                let label = record % 10
                bytes.append(UInt8(label))
                for value in patterns[label] {
                    bytes.append(UInt8(max(0, min(255, 128 + value + 30 * generator.nextNormal()))))
                }
            }
            try Data(bytes).write(to: URL(fileURLWithPath: directory + "/" + name))
        }
        try (["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"].joined(separator: "\n") + "\n")
            .write(toFile: directory + "/batches.meta.txt", atomically: true, encoding: .utf8)
    }

    @Test func cifar10FixtureThroughPropagation() throws {
        try TestSupport.withTemporaryDirectory { out in
            try writeCIFARFixture(out + "/cifar", recordsPerFile: 40)
            let variables = ["CIFAR_DIR=\(out)/cifar", "OUT=\(out)", "METRIC=pixels", "PROPAGATION=knn", "LABELS_PER_CLASS=2"]
            let run = try make("cifar10.mk", variables, ["pseudo"])
            #expect(run.status == 0, "\(run.stderr)")
            let dataset = try ImageDataset.read(out + "/cifar10/data/train.h5")
            #expect(dataset.count == 200 && dataset.channels == 3 && dataset.classNames[9] == "truck")
            let pseudo = try PseudoLabels.read(out + "/cifar10/pixels/knn/n2-s0/pseudo.h5")
            let correct = zip(pseudo.labels, dataset.labels).filter { $0 == $1 }.count
            #expect(Double(correct) / 200 > 0.5, "kNN on colour-coded classes should be far above chance")
        }
    }
}
