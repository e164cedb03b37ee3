import Foundation
import Testing
import TestSupport
@testable import MTCore
@testable import MTStorage

/// The teacher/student links as a user runs them on the first 1000 MNIST training images: a teacher
/// trained on 40 labels predicts every image (`mt-train predict`), `mt-select pseudo` keeps the top K per
/// class over the top P classes without the labelled samples, and a student trains on that selection
/// alone, with hard or soft targets.
@Suite(.serialized) struct TeacherStudentToolTests {
    @Test(.needsMNIST) func teacherPredictsSelectsAndTeachesAStudent() throws {
        let mnist = try #require(TestSupport.mnistDirectory)
        try TestSupport.withTemporaryDirectory { dir in
            let (train, _, split) = try SemiSupervisedToolTests.data(mnist, dir)
            let teacher = dir + "/teacher.h5", pseudo = dir + "/pseudo.h5", selection = dir + "/student-set.h5"
            let trained = try TestSupport.run("mt-train", ["classifier", train, "--split", split, "--arch", "mnist-cnn", "--iterations", "40",
                                                           "--batch-size", "32", "--lr", "0.03", "-q", "-o", teacher])
            #expect(trained.status == 0, "\(trained.stderr)")

            // The predictions are the model's: their accuracy against the truth is mt-eval model's.
            let predicted = try TestSupport.run("mt-train", ["predict", teacher, train, "-q", "-o", dir + "/all.h5"])
            #expect(predicted.status == 0, "\(predicted.stderr)")
            let modelAccuracy = try SemiSupervisedToolTests.accuracy(teacher, train)
            let scored = try TestSupport.run("mt-eval", ["pseudo", dir + "/all.h5", "--truth", train, "-q", "--json", dir + "/all.json"])
            #expect(scored.status == 0, "\(scored.stderr)")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/all.json"))) as? [String: Any])
            let runs = try #require(json["runs"] as? [[String: Any]])
            let pseudoAccuracy = try #require((runs.first?["scalars"] as? [String: Any])?["accuracy"] as? Double)
            #expect(abs(pseudoAccuracy - modelAccuracy) < 1e-12, "predict \(pseudoAccuracy) vs mt-eval model \(modelAccuracy)")
            let all = try PseudoLabels.read(dir + "/all.h5")
            #expect(all.method == "predict" && all.count == 1000 && all.labeled.isEmpty)

            // With the split and test-time shifts: the labelled samples keep their labels, rows are distributions.
            let withSplit = try TestSupport.run("mt-train", ["predict", teacher, train, "--split", split, "--tta", "shift", "--temperature", "2",
                                                             "-q", "-o", pseudo])
            #expect(withSplit.status == 0, "\(withSplit.stderr)")
            let labels = try PseudoLabels.read(pseudo), given = try Split.read(split)
            #expect(labels.labeled == given.labeled && given.labeled.allSatisfy { labels.confidence[$0] == 1 })
            #expect(zip(given.labeled, given.labeledLabels).allSatisfy { labels.labels[$0] == $1 })
            #expect(labels.parameters["tta"] == .string("shift") && labels.parameters["temperature"] == .double(2))
            let unlabeled = (0..<1000).filter { !given.labeled.contains($0) }
            #expect(unlabeled.reduce(0) { $0 + labels.confidence[$1] } < unlabeled.reduce(0) { $0 + all.confidence[$1] }, "T = 2 softens")

            // Top 30 per class over the top 2 classes, labelled samples left out: some images stand in two lists.
            let selected = try TestSupport.run("mt-select", ["pseudo", pseudo, "--per-class-top", "30", "--top-classes", "2", "--exclude-labeled",
                                                             "-q", "-o", selection])
            #expect(selected.status == 0, "\(selected.stderr)")
            let chosen = try Selection.read(selection)
            let perClass = Dictionary(grouping: chosen.labels, by: { $0 }).mapValues(\.count)
            #expect(chosen.labeledCount == 0 && Set(chosen.index).isDisjoint(with: given.labeled))
            #expect(perClass.values.allSatisfy { $0 <= 30 } && chosen.count > 100, "at most 30 per class: \(perClass)")
            #expect(Set(chosen.index).count < chosen.count, "an image in two classes' lists")
            #expect(chosen.probs?.count == chosen.count * 10)

            // Students on the selection alone: hard labels and soft targets.
            for targets in [["--targets", "hard"], ["--targets", "soft", "--soft-temperature", "2"]] {
                let student = dir + "/student-\(targets[1]).h5"
                let run = try TestSupport.run("mt-train", ["classifier", train, "--selection", selection, "--arch", "mnist-cnn", "--iterations", "5",
                                                           "--batch-size", "32", "-q", "-o", student] + targets)
                #expect(run.status == 0, "\(targets): \(run.stderr)")
                #expect(try SemiSupervisedToolTests.accuracy(student, train) > 0.05)
            }
            // A selection without soft targets is refused for --targets soft, naming /probs.
            var hardOnly = chosen
            hardOnly.probs = nil
            try hardOnly.write(dir + "/hard-only.h5", inputs: [])
            let refused = try TestSupport.run("mt-train", ["classifier", train, "--selection", dir + "/hard-only.h5", "--arch", "mnist-cnn",
                                                           "--iterations", "1", "--targets", "soft", "-q", "-o", dir + "/x.h5"])
            #expect(refused.status == 2 && refused.stderr.contains("/probs"), "\(refused.stderr)")
            // A metric network is no classifier to predict with.
            let metric = try TestSupport.run("mt-train", ["metric", train, "--arch", "mnist-cnn", "--objective", "simclr", "--epochs", "1",
                                                          "--batch-size", "16", "-q", "-o", dir + "/metric.h5"])
            #expect(metric.status == 0, "\(metric.stderr)")
            let noClassifier = try TestSupport.run("mt-train", ["predict", dir + "/metric.h5", train, "-q", "-o", dir + "/p.h5"])
            #expect(noClassifier.status == 2 && noClassifier.stderr.contains("classifier"), "\(noClassifier.stderr)")
        }
    }
}
