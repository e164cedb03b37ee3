import Foundation
import Testing
import TestSupport
@testable import MTCore
@testable import MTNetwork

/// Every method's unlabelled term (loss, gradient by autograd, mask, state update) against the PyTorch
/// transcription in Tests/Fixtures/ssl_reference.py, on a fixed batch with confident and unconfident rows.
@Suite("Semi-supervised losses against PyTorch")
struct SemiSupervisedLossTests {
    static let classes = 4, rows = 12

    /// Logits whose rows range from flat to very peaked, so every threshold keeps some rows and drops others.
    static func logits(seed: UInt64) -> Tensor {
        var rng = SeededGenerator(seed: seed)
        var data: [Float] = []
        for row in 0..<rows {
            let peak = Float(row) * 0.9
            for k in 0..<classes { data.append(rng.nextNormal() * 0.5 + (k == row % classes ? peak : 0)) }
        }
        return Tensor(shape: [rows, classes], data: data)
    }

    func reference(_ fields: [String: Any]) throws -> [String: Any] {
        let python = try #require(TestSupport.pythonWithTorch)
        return try TestSupport.withTemporaryDirectory { directory in
            let path = directory + "/case.json"
            try JSONSerialization.data(withJSONObject: fields).write(to: URL(fileURLWithPath: path))
            let run = try TestSupport.execute(python, [TestSupport.repositoryRoot + "/Tests/Fixtures/ssl_reference.py", path])
            #expect(run.status == 0, "\(run.stderr)")
            return try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        }
    }

    func compare(_ term: ConsistencyTerm, _ expected: [String: Any], _ name: String) throws {
        let loss = try #require(expected["loss"] as? Double), rate = try #require(expected["mask_rate"] as? Double)
        let gradient = try #require(expected["gradient"] as? [Double])
        #expect(abs(term.loss - loss) <= 1e-6 * max(1, abs(loss)), "\(name): loss \(term.loss) vs \(loss)")
        #expect(abs(term.maskRate - rate) < 1e-12, "\(name): mask rate \(term.maskRate) vs \(rate)")
        #expect(rate > 0 || name.contains("none"), "\(name): the batch should keep some rows")
        let worst = zip(term.gradient.data, gradient).map { abs(Double($0) - $1) }.max() ?? 0
        #expect(worst < 1e-7, "\(name): gradient differs by \(worst)")
    }

    func inputs(_ method: String, _ targets: Tensor, _ students: Tensor, _ extra: [String: Any] = [:]) -> [String: Any] {
        ["method": method, "classes": Self.classes, "targets": targets.data.map(Double.init),
         "students": students.data.map(Double.init)].merging(extra) { $1 }
    }

    @Test(.needsTorch) func fixedThresholdMethods() throws {
        let targets = Self.logits(seed: 1), students = Self.logits(seed: 2)
        for threshold in [0.95, 0.6] {
            let fix = FixMatchMethod(threshold: threshold).consistency(targets: targets, students: students, samples: [], progress: 0)
            try compare(fix, reference(inputs("fixmatch", targets, students, ["threshold": threshold])), "fixmatch \(threshold)")
        }
        // Pseudo-Label: the targets are the student's own logits.
        let own = PseudoLabelMethod(threshold: 0.9).consistency(targets: targets, students: targets, samples: [], progress: 0)
        try compare(own, reference(inputs("pseudo-label", targets, targets, ["threshold": 0.9])), "pseudo-label")
    }

    @Test(.needsTorch) func squaredErrorMethods() throws {
        let targets = Self.logits(seed: 3), students = Self.logits(seed: 4)
        try compare(PiModelMethod().consistency(targets: targets, students: students, samples: [], progress: 0),
                    reference(inputs("pi-model", targets, students)), "pi-model")
        try compare(MeanTeacherMethod().consistency(targets: targets, students: students, samples: [], progress: 0),
                    reference(inputs("mean-teacher", targets, students)), "mean-teacher")
    }

    @Test(.needsTorch) func udaSharpensMasksAndAnneals() throws {
        let targets = Self.logits(seed: 5), students = Self.logits(seed: 6), labeled = Self.logits(seed: 7)
        let labels = (0..<Self.rows).map { Int32($0 % Self.classes) }
        for (tsa, progress) in [(AnnealingSchedule.linear, 0.3), (.log, 0.1), (.exp, 0.8)] {
            let method = UDAMethod(temperature: 0.4, threshold: 0.8, tsa: tsa)
            let expected = try reference(inputs("uda", targets, students, ["threshold": 0.8, "sharpening": 0.4, "tsa": tsa.rawValue,
                                                                          "progress": progress, "labeled": labeled.data.map(Double.init),
                                                                          "labels": labels.map(Int.init)]))
            try compare(method.consistency(targets: targets, students: students, samples: [], progress: progress), expected, "uda")
            let mask = try #require(method.supervisedMask(logits: labeled, labels: labels, progress: progress))
            #expect(mask.map(Double.init) == expected["supervised_mask"] as? [Double], "TSA \(tsa)")
        }
    }

    @Test(.needsTorch) func flexMatchClassThresholdsFollowTheMemory() throws {
        let targets = Self.logits(seed: 8), students = Self.logits(seed: 9)
        for warmup in [true, false] {
            let method = FlexMatchMethod(unlabeledCount: 30, threshold: 0.95, warmup: warmup)
            // A memory in which class 0 was learnt often, class 3 never, most images not yet.
            let memory: [Int32] = (0..<30).map { $0 < 8 ? 0 : $0 < 11 ? 1 : $0 < 12 ? 2 : -1 }
            try method.restoreState(["flexmatch.remembered": memory.map(Float.init)], source: "test")
            let samples = Array(stride(from: 29, through: 6, by: -2))
            let expected = try reference(inputs("flexmatch", targets, students, ["threshold": 0.95, "warmup": warmup,
                                                                                "remembered": memory.map(Int.init), "samples": samples]))
            try compare(method.consistency(targets: targets, students: students, samples: samples, progress: 0), expected, "flexmatch")
            #expect(method.remembered.map(Int.init) == expected["remembered"] as? [Int])
        }
    }

    @Test(.needsTorch) func debiasMatchDebiasesByTheRunningMarginal() throws {
        let targets = Self.logits(seed: 10), students = Self.logits(seed: 11)
        let method = DebiasMatchMethod(classes: Self.classes, threshold: 0.7, tau: 0.5, momentum: 0.9)
        let prior: [Float] = [0.4, 0.3, 0.2, 0.1]
        try method.restoreState(["debiasmatch.marginal": prior], source: "test")
        let expected = try reference(inputs("debiasmatch", targets, students, ["threshold": 0.7, "tau": 0.5, "momentum": 0.9,
                                                                              "marginal": prior.map(Double.init)]))
        try compare(method.consistency(targets: targets, students: students, samples: [], progress: 0), expected, "debiasmatch")
        let marginal = try #require(expected["marginal"] as? [Double])
        #expect(zip(method.marginal, marginal).allSatisfy { abs(Double($0) - $1) < 1e-7 })
    }

    /// DST's worst-case estimation (labelled rows first) against TLlib's `WorstCaseEstimationLoss`, and the
    /// warm start of its gradient reversal.
    @Test(.needsTorch) func dstWorstCaseEstimationAsTLlib() throws {
        let main = Self.logits(seed: 12), worst = Self.logits(seed: 13), b = 5, k = Self.classes
        func rows(_ t: Tensor, _ range: Range<Int>) -> Tensor {
            Tensor(shape: [range.count, k], data: Array(t.data[(range.lowerBound * k)..<(range.upperBound * k)]))
        }
        let result = DebiasedSelfTrainingObjective.worstCaseEstimation(main: rows(main, 0..<b), worst: rows(worst, 0..<b),
                                                                      mainUnlabeled: rows(main, b..<Self.rows),
                                                                      worstUnlabeled: rows(worst, b..<Self.rows), etaPrime: 2)
        let term = ConsistencyTerm(loss: result.loss, gradient: Tensor(shape: main.shape, data: result.labeled.data + result.unlabeled.data),
                                   maskRate: 1)
        try compare(term, reference(inputs("dst", main, worst, ["labeled_rows": b, "eta_prime": 2.0])), "dst")
        #expect(DebiasedSelfTrainingObjective.reversalCoefficient(step: 0) == 0)
        #expect(abs(DebiasedSelfTrainingObjective.reversalCoefficient(step: 1000) - (0.2 / (1 + exp(-1)) - 0.1)) < 1e-15)
        #expect(abs(DebiasedSelfTrainingObjective.reversalCoefficient(step: 100_000) - 0.1) < 1e-12)
    }

    /// Self-Tuning's pseudo-group contrast and queue update against a transcription of TLlib's
    /// `SelfTuning.forward` (its per-sample loop, LogSoftmax and batch-mean KL), with a class queue that wraps.
    @Test(.needsTorch) func selfTuningContrastsAndQueuesAsTLlib() throws {
        let p = 6, perClass = 3, b = 5
        var rng = SeededGenerator(seed: 21)
        func units(_ rows: Int) -> Tensor {
            var t = Tensor(shape: [rows, p], data: (0..<(rows * p)).map { _ in rng.nextNormal() })
            for r in 0..<rows {
                let norm = (0..<p).reduce(Float(0)) { $0 + t.data[r * p + $1] * t.data[r * p + $1] }.squareRoot()
                for j in 0..<p { t.data[r * p + j] /= norm }
            }
            return t
        }
        let queries = units(b), keys = units(b), labels = [1, 1, 3, 1, 1]
        let data = ImageDataset(images: [UInt8](repeating: 0, count: 4 * 28 * 28), count: 4, height: 28, width: 28, channels: 1,
                                labels: [0, 1, 2, 3], classNames: ["a", "b", "c", "d"], name: "t")
        let batcher = ImageBatcher(dataset: data, mean: [0.5], std: [0.25], augmentation: .digits)
        let network = Network(.mnistCNN, inputChannels: 1, outputDimension: 4)
        let objective = SelfTuningObjective(labeled: .labeled(data.labels), unlabeled: [0], strong: batcher,
                                            settings: .init(queueSize: perClass, temperature: 0.07, keyMomentum: 0.999, projectionDimension: p),
                                            unlabeledRatio: 1, network: network, seed: 3, epochSteps: 1)
        let before = objective.queue
        let pgc = SelfTuningObjective.pseudoGroupContrast(queries: queries, keys: keys, queue: before, perClass: perClass, labels: labels,
                                                          temperature: 0.07)
        objective.enqueue(keys, labels: labels)
        let expected = try reference(["method": "self-tuning", "dimension": p, "per_class": perClass, "classes": 4, "temperature": 0.07,
                                      "queries": queries.data.map(Double.init), "keys": keys.data.map(Double.init),
                                      "queue": before.map(Double.init), "pointers": [0, 0, 0, 0], "labels": labels])
        let loss = try #require(expected["loss"] as? Double), gradient = try #require(expected["gradient"] as? [Double])
        #expect(abs(pgc.loss - loss) <= 1e-6 * abs(loss), "loss \(pgc.loss) vs \(loss)")
        let worst = zip(pgc.gradient.data, gradient).map { abs(Double($0) - $1) / max(1, abs($1)) }.max() ?? 0
        #expect(worst < 1e-6, "gradient differs by \(worst)")
        let queue = try #require(expected["queue"] as? [Double]), pointers = try #require(expected["pointers"] as? [Int])
        #expect(zip(objective.queue, queue).allSatisfy { abs(Double($0) - $1) < 1e-7 }, "queue after the update")
        #expect(objective.queuePointers == pointers && pointers == [0, 1, 0, 1], "class 1 wrapped after 3 of its 4 keys")
    }

    /// Soft targets (`mt-train classifier --targets soft`): weighted cross-entropy against distributions at a
    /// temperature, scaled by T^2, against its PyTorch transcription; at T = 1 with one-hot targets it is
    /// the hard-label loss.
    @Test(.needsTorch) func softTargetsAsDistillation() throws {
        let targets = Self.logits(seed: 14), students = Self.logits(seed: 15)
        let q = ConsistencyMath.softmax(targets).map(Float.init)
        let weights: [Float] = (0..<Self.rows).map { 0.25 + Float($0) / 16 }
        let result = CrossEntropyLoss()(students, distributions: q, weights: weights, temperature: 2)
        let expected = try reference(inputs("soft-target", targets, students, ["temperature": 2.0, "weights": weights.map(Double.init)]))
        try compare(ConsistencyTerm(loss: result.loss, gradient: result.gradient, maskRate: 1), expected, "soft targets")
        let labels: [Int32] = (0..<Self.rows).map { Int32($0 % Self.classes) }
        let oneHot = ConsistencyMath.oneHot(labels.map(Int.init), classes: Self.classes).map(Float.init)
        let soft = CrossEntropyLoss()(students, distributions: oneHot, weights: weights), hard = CrossEntropyLoss()(students, targets: labels, weights: weights)
        #expect(abs(soft.loss - hard.loss) < 1e-9 && zip(soft.gradient.data, hard.gradient.data).allSatisfy { abs($0 - $1) < 1e-7 })
    }

    /// MixMatch's pieces: sharpening (by hand: (0.6, 0.4) at T = 0.5 is (0.36, 0.16) / 0.52) and the Beta draws
    /// of its mixup (mean 1/2 and variance 1 / (4 (2 alpha + 1)) for Beta(alpha, alpha)).
    @Test func mixMatchSharpensAndDrawsBeta() {
        let q = MixMatchObjective.sharpen([0.6, 0.4, 0.5, 0.5], classes: 2, temperature: 0.5)
        #expect(abs(q[0] - 0.36 / 0.52) < 1e-12 && abs(q[1] - 0.16 / 0.52) < 1e-12 && q[2] == 0.5 && q[3] == 0.5)
        for alpha in [0.75, 2.0] {
            var rng = SeededGenerator(seed: 8)
            let draws = (0..<40_000).map { _ in MixMatchObjective.beta(alpha, using: &rng) }
            let mean = draws.reduce(0, +) / Double(draws.count)
            let variance = draws.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(draws.count)
            #expect(draws.allSatisfy { $0 >= 0 && $0 <= 1 })
            #expect(abs(mean - 0.5) < 0.01 && abs(variance - 1 / (4 * (2 * alpha + 1))) < 0.005, "Beta(\(alpha)): mean \(mean), variance \(variance)")
        }
    }

    @Test func weightAverageWarmsUpAndAveragesWeightsAndStatistics() {
        let student = Network(.mnistCNN, inputChannels: 1, outputDimension: 3)
        student.initialize(seed: 1)
        let average = WeightAverage(of: student, decay: 0.9)
        #expect(average.decay(afterStep: 0) == 0.1 && average.decay(afterStep: 80) == 0.9 && abs(average.decay(afterStep: 10) - 11.0 / 20) < 1e-12)
        let before = average.network.namedParameters().map { $0.1.value }
        for (_, parameter) in student.namedParameters() where parameter.kind != .counter { parameter.value = parameter.value.map { $0 + 1 } }
        average.update(from: student, step: 100)
        for ((key, a), old) in zip(average.network.namedParameters(), before) where a.kind != .counter {
            // a = 0.9 old + 0.1 (old + 1) = old + 0.1, for weights and running statistics alike.
            #expect(zip(a.value, old).allSatisfy { abs($0 - ($1 + 0.1)) < 1e-5 }, "\(key)")
        }
        #expect(average.network.namedParameters().contains { $0.1.kind == .buffer })
    }

    @Test func rampUpFollowsTheGaussianSchedule() {
        var rng = SeededGenerator(seed: 1)
        let data = ImageDataset(images: (0..<(4 * 28 * 28)).map { _ in UInt8(rng.next() % 256) }, count: 4, height: 28, width: 28,
                                channels: 1, labels: [0, 1, -1, -1], classNames: ["a", "b"], name: "t")
        let batcher = ImageBatcher(dataset: data, mean: [0.5], std: [0.25], augmentation: .digits)
        let objective = SemiSupervisedObjective(labeled: .labeled(data.labels), unlabeled: [2, 3], weak: batcher, strong: batcher,
                                                method: PiModelMethod(), unlabeledRatio: 1, weight: 10, rampUp: 0.5, seed: 1,
                                                average: nil, epochSteps: 10)
        #expect(abs(objective.rampWeight(progress: 0) - exp(-5)) < 1e-12)
        #expect(abs(objective.rampWeight(progress: 0.25) - exp(-1.25)) < 1e-12)
        #expect(objective.rampWeight(progress: 0.5) == 1 && objective.rampWeight(progress: 0.9) == 1)
        // The unlabelled images of a step are fixed by the step: the same positions when asked again.
        #expect(objective.unlabeledPositions(iteration: 3, count: 3) == objective.unlabeledPositions(iteration: 3, count: 3))
        #expect(Set(objective.unlabeledPositions(iteration: 0, count: 2)) == [0, 1], "one pass visits every unlabelled image once")
    }
}
