import MTCore

/// FlexMatch (Zhang et al. 2021, "FlexMatch: boosting semi-supervised learning with curriculum pseudo
/// labeling"): FixMatch with a threshold per class that follows how well the class is learnt. Every
/// unlabelled image remembers the class it was last confidently (>= `threshold`) predicted as (-1: never).
/// sigma_c counts the images remembered as c; the learning effect is beta_c = sigma_c / max(max_c sigma_c,
/// number never predicted) with threshold warm-up (the never-predicted count in the maximum), else over
/// the classes alone; the class threshold is threshold * M(beta_c) with the convex mapping M(x) = x / (2 - x).
/// The thresholds of a step come from the memory before the step's own predictions update it.
public final class FlexMatchMethod: ConsistencyMethod {
    public let threshold: Double
    public let warmup: Bool
    /// Per unlabelled image: the class last predicted with confidence >= threshold, or -1.
    public private(set) var remembered: [Int32]

    public init(unlabeledCount: Int, threshold: Double = 0.95, warmup: Bool = true) {
        self.threshold = threshold
        self.warmup = warmup
        remembered = [Int32](repeating: -1, count: unlabeledCount)
    }

    public var studentView: StudentView { .strong }

    /// threshold * M(beta_c) for every class.
    public func classThresholds(classes k: Int) -> [Double] {
        var counts = [Int](repeating: 0, count: k)
        var never = 0
        for label in remembered { if label < 0 { never += 1 } else { counts[Int(label)] += 1 } }
        // Before any confident prediction every beta is 0 with warm-up (threshold 0); FlexMatch then keeps
        // the thresholds at 0, as its reference code does.
        let classMaximum = counts.max() ?? 0
        let denominator = warmup ? max(classMaximum, never) : classMaximum
        return counts.map { count in
            let beta = denominator > 0 ? Double(count) / Double(denominator) : 0
            return threshold * beta / (2 - beta)
        }
    }

    public func consistency(targets: Tensor, students: Tensor, samples: [Int], progress: Double) -> ConsistencyTerm {
        let k = targets.sampleSize
        let best = ConsistencyMath.confidence(ConsistencyMath.softmax(targets), classes: k)
        let thresholds = classThresholds(classes: k)
        let mask = best.map { $0.value >= thresholds[$0.label] ? 1.0 : 0 }
        for (row, sample) in samples.enumerated() where best[row].value >= threshold { remembered[sample] = Int32(best[row].label) }
        let (loss, gradient) = ConsistencyMath.crossEntropy(students, targets: ConsistencyMath.oneHot(best.map(\.label), classes: k), mask: mask)
        return ConsistencyTerm(loss: loss, gradient: gradient, maskRate: mask.reduce(0, +) / Double(max(mask.count, 1)))
    }

    public func saveState(into state: inout [String: [Float]]) { state["flexmatch.remembered"] = remembered.map(Float.init) }

    public func restoreState(_ state: [String: [Float]], source: String) throws {
        guard let stored = state["flexmatch.remembered"], stored.count == remembered.count else {
            throw MTError.badInput(source, "/training/flexmatch.remembered", "expected float32 [\(remembered.count)] (one class per unlabelled image)")
        }
        remembered = stored.map { Int32($0) }
    }
}
