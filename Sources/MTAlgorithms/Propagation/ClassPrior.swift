import Foundation
import MTCore

/// The class marginals a propagation or a selection is balanced towards (issue 20): what share of the
/// unlabelled samples each class is expected to hold.
public enum ClassPrior: Sendable, Equatable {
    /// Every class the same share.
    case uniform
    /// The class frequencies of the labelled set (a class without labelled samples gets no mass); for a
    /// class-balanced split the same as `uniform`.
    case labeled
    /// Given nonnegative class weights (from a file), normalised to sum 1.
    case marginals([Double])

    /// How artifacts record it: `uniform`, `labeled` or `given`.
    public var name: String {
        switch self {
        case .uniform: "uniform"
        case .labeled: "labeled"
        case .marginals: "given"
        }
    }

    /// The marginals for `classes` classes, summing to 1. nil for `.marginals` of another length or with
    /// no positive entry (the caller names its file in the error).
    public func marginals(classes: Int, labeledLabels: [Int32]) -> [Double]? {
        switch self {
        case .uniform:
            return [Double](repeating: 1 / Double(classes), count: classes)
        case .labeled:
            guard !labeledLabels.isEmpty else { return ClassPrior.uniform.marginals(classes: classes, labeledLabels: []) }
            var counts = [Double](repeating: 0, count: classes)
            for label in labeledLabels where label >= 0 && Int(label) < classes { counts[Int(label)] += 1 }
            let total = counts.reduce(0, +)
            return counts.map { $0 / total }
        case .marginals(let weights):
            let total = weights.reduce(0, +)
            guard weights.count == classes, total > 0, weights.allSatisfy({ $0 >= 0 && $0.isFinite }) else { return nil }
            return weights.map { $0 / total }
        }
    }
}

/// A class prior applied to a propagation's scores as one multiplicative factor per class, chosen so
/// that the unlabelled samples' class marginals match the prior: the balanced assignment self-labelling
/// makes with Sinkhorn-Knopp (Asano et al. 2020), here on the final scores of kNN voting, label spreading
/// or the normalised cut.
///
/// Sinkhorn-Knopp finds Q = diag(a) P^lambda diag(b) whose class marginals are the prior; its argmax is
/// the argmax of P_ic b_c^(1/lambda). The factors f_c = b_c^(1/lambda) (scaled to a largest of 1) are what
/// the methods apply: kNN voting and spreading multiply their class distributions by them, the normalised
/// cut adds log(f_c) / T to its logits (its per-class bias). lambda = 1 matches the soft marginals of P
/// to the prior; a larger lambda matches the hard label counts more closely (lambda -> infinity is an
/// optimal-transport assignment with exactly the prior's class sizes), while the distributions keep their
/// own sharpness.
public struct PriorBalancing: Sendable, Equatable {
    public var prior: ClassPrior
    public var sinkhorn: SinkhornKnopp
    /// Relative slack s: a class predicted for a share within (1 -+ s) of its prior keeps that share; only
    /// the classes outside the band are moved to its nearer edge (targets clamped, then renormalised).
    /// 0 balances to the prior exactly. A prior is rarely exact (MNIST's class shares lie within 0.9 and
    /// 1.12 of a tenth); the band leaves a good draw's true imbalance alone and still undoes a bad one.
    public var slack: Double
    /// Where the prior came from (its file), named when it does not fit the classes.
    public var origin: String

    /// Chosen on MNIST at one label per class, seeds 0-9 (bench/priors.sh, bench/RESULTS.md).
    public static let defaultLambda = 5.0

    /// Chosen with lambda on the same seeds.
    public static let defaultSlack = 0.1

    public init(prior: ClassPrior, lambda: Double = defaultLambda, slack: Double = defaultSlack, origin: String = "--prior") {
        self.prior = prior
        self.sinkhorn = SinkhornKnopp(lambda: lambda)
        self.slack = slack
        self.origin = origin
    }

    /// The per-class factors for `pseudo`'s unlabelled rows, the attributes that record them, and a
    /// warning when Sinkhorn-Knopp stopped before the marginals met its tolerance.
    public func classFactors(_ pseudo: PseudoLabels) throws -> (factors: [Double], attributes: [String: AttributeValue], diagnostics: Diagnostics) {
        let classes = pseudo.classCount
        guard let marginals = prior.marginals(classes: classes, labeledLabels: pseudo.labeledLabels) else {
            throw MTError.badInput(origin, nil, "expected \(classes) nonnegative class weights with a positive sum")
        }
        let rows = pseudo.unlabeledIndices
        var gathered = [Float](repeating: 0, count: rows.count * classes)
        for (slot, row) in rows.enumerated() {
            for c in 0..<classes { gathered[slot * classes + c] = pseudo.probs[row * classes + c] }
        }
        // The targets: the prior, or with slack the predicted shares clamped to the prior's band.
        var targets = marginals
        var insideBand = false
        if slack > 0, !rows.isEmpty {
            var counts = [Double](repeating: 0, count: classes)
            for row in rows { counts[Int(pseudo.labels[row])] += 1 }
            let shares = counts.map { $0 / Double(rows.count) }
            for c in 0..<classes { targets[c] = min(max(shares[c], marginals[c] * (1 - slack)), marginals[c] * (1 + slack)) }
            insideBand = targets == shares
            let total = targets.reduce(0, +)
            targets = targets.map { $0 / total }
        }
        var diagnostics = Diagnostics()
        // Every class inside the band: nothing to move (Sinkhorn would still nudge the soft marginals).
        let result = insideBand
            ? SinkhornKnopp.Factors(columnScaling: [Double](repeating: 1, count: classes), iterations: 0, marginalError: 0, converged: true)
            : sinkhorn.balanceFactors(gathered, rows: rows.count, classes: classes, prior: targets)
        if !result.converged {
            diagnostics.warn("prior: Sinkhorn-Knopp stopped after \(result.iterations) iterations with marginal error \(result.marginalError) > tolerance \(sinkhorn.tolerance)")
        }
        // b^(1/lambda) in log space (b spans many orders of magnitude), scaled so that the largest is 1.
        let logs = result.columnScaling.map { $0 > 0 ? log($0) / sinkhorn.lambda : -Double.infinity }
        let top = logs.max() ?? 0
        let factors = logs.map { exp($0 - top) }
        let attributes: [String: AttributeValue] = [
            "prior": .string(prior.name), "prior_marginals": .doubles(marginals), "prior_lambda": .double(sinkhorn.lambda),
            "prior_slack": .double(slack), "prior_targets": .doubles(targets),
            "prior_factors": .doubles(factors), "prior_iterations": .int(result.iterations),
            "prior_marginal_error": .double(result.marginalError),
        ]
        diagnostics.note("prior \(prior.name) (lambda \(sinkhorn.lambda), slack \(slack)): class factors "
                         + factors.map { String(format: "%.3g", $0) }.joined(separator: " "))
        return (factors, attributes, diagnostics)
    }

    /// `pseudo` with its unlabelled distributions multiplied by the class factors and renormalised, labels
    /// and confidences taken again (kNN voting's and spreading's use; /weights, if any, are kept).
    public func apply(to pseudo: PseudoLabels) throws -> (labels: PseudoLabels, diagnostics: Diagnostics) {
        let (factors, attributes, diagnostics) = try classFactors(pseudo)
        let classes = pseudo.classCount
        var balanced = pseudo
        let scale = factors.map(Float.init)
        for row in pseudo.unlabeledIndices {
            let base = row * classes
            var total: Float = 0
            for c in 0..<classes {
                balanced.probs[base + c] *= scale[c]
                total += balanced.probs[base + c]
            }
            // A row whose mass lay only on classes the prior excludes keeps its distribution.
            guard total > 0 else {
                for c in 0..<classes { balanced.probs[base + c] = pseudo.probs[base + c] }
                continue
            }
            for c in 0..<classes { balanced.probs[base + c] /= total }
            let best = balanced.probs.withUnsafeBufferPointer { Argmax.of($0.baseAddress! + base, count: classes) }
            balanced.labels[row] = Int32(best)
            balanced.confidence[row] = balanced.probs[base + best]
        }
        balanced.parameters.merge(attributes) { _, new in new }
        return (balanced, diagnostics)
    }
}
