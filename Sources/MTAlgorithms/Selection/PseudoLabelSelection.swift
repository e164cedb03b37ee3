import MTCore

/// Which unlabelled samples join the training set.
public enum SelectionStrategy: Sendable, Equatable {
    /// The `ratio` fraction of unlabelled samples with the highest confidence (the paper's finetune set).
    case ratio(Double)
    /// Per class c, the K samples with the highest probability of c among those that have c in their
    /// `topClasses` most likely classes (Yalniz et al.'s teacher/student selection: K per class over the
    /// top P). With P = 1 a sample competes only in its predicted class; with P > 1 it can be chosen for
    /// several classes, once per class.
    case perClassTop(Int, topClasses: Int = 1)
    /// Every sample with confidence at least t.
    case threshold(Double)
    /// ReLaB-style bootstrapping (Albert et al., 2021): a small, class-balanced, very clean set of the n
    /// most reliable samples per predicted class. Reliability is the margin between the top two class
    /// probabilities: a sample torn between two classes is not reliable however high its top score is.
    /// (ReLaB further cleans with a classifier trained on the propagated labels; that needs `mt-train`.)
    case reliable(Int)
    /// ReLaB's cleaned pool: the n samples of each propagated class with the smallest loss under a
    /// classifier trained on all propagated labels; ranked by the per-sample scores (exp(-loss)) that
    /// `PseudoLabelCleaning` passes to `select`.
    case smallLoss(Int)

    public var name: String {
        switch self {
        case .ratio: "ratio"
        case .perClassTop: "per-class-top"
        case .threshold: "threshold"
        case .reliable: "reliable"
        case .smallLoss: "small-loss"
        }
    }

    public var attributes: [String: AttributeValue] {
        switch self {
        case .ratio(let value): ["ratio": .double(value)]
        case .perClassTop(let k, let p): ["per_class_top": .int(k), "top_classes": .int(p)]
        case .threshold(let value): ["threshold": .double(value)]
        case .reliable(let n): ["reliable": .int(n)]
        case .smallLoss(let n): ["small_loss": .int(n)]
        }
    }
}

/// How the training weight of a pseudo-labelled sample is set (labelled samples always weigh 1).
public enum SelectionWeighting: String, CaseIterable, Sendable {
    /// The sample's confidence, as in the paper's weighted finetuning loss (its reference code omits it).
    case confidence
    case uniform
    /// The propagation method's own weight, `/weights` of the pseudo-labels (the normalised cut's margin).
    case nc
}

/// Picks the training set from pseudo-labels: every labelled sample with its given label and weight 1,
/// then the unlabelled samples the strategy chooses, most confident first. Ranking ties are broken by
/// the lower sample index, so a selection is a function of its inputs alone.
public struct PseudoLabelSelection: Sendable {
    public var strategy: SelectionStrategy
    public var weighting: SelectionWeighting
    /// When set, the unlabelled distributions are rebalanced before labels and confidences are taken.
    public var balance: SinkhornKnopp?
    public var prior: ClassPrior
    /// Leave the labelled samples out (a student's training set of pseudo-labels alone).
    public var excludesLabeled: Bool
    /// Without `balance`: apply `automaticBalancing` first (`mt-select pseudo --balance auto`).
    public var balancesFewLabels: Bool

    public init(strategy: SelectionStrategy, weighting: SelectionWeighting = .confidence,
                balance: SinkhornKnopp? = nil, prior: ClassPrior = .uniform, excludesLabeled: Bool = false,
                balancesFewLabels: Bool = false) {
        self.strategy = strategy
        self.weighting = weighting
        self.balance = balance
        self.prior = prior
        self.excludesLabeled = excludesLabeled
        self.balancesFewLabels = balancesFewLabels
    }

    /// `--balance auto` balances propagations of at most this many labelled samples per class: with one
    /// label per class an atypical example can take another class's images (issue 20), and the prior
    /// undoes most of it (MNIST, 20 draws: worst pseudo-labels 83.6 -> 91.1 %, mean 96.1 -> 96.5 %); at
    /// five per class no draw was bad and the prior gained nothing (bench/RESULTS.md). On classes that
    /// really are unequal a uniform prior is wrong, hence only where one draw can be this bad.
    public static let fewLabelsPerClass = 1

    /// The class prior `--balance auto` applies to `pseudo` before selecting (`PriorBalancing` with its
    /// default power and slack, towards `prior`), or nil: when the pseudo-labels come from a propagation
    /// (knn, spread, ncut) of at most `fewLabelsPerClass` labelled samples per class and carry no prior of
    /// their own. A classifier's predictions (`predict`) are left as they are.
    public static func automaticBalancing(for pseudo: PseudoLabels, prior: ClassPrior) -> PriorBalancing? {
        guard ["knn", "spread", "ncut"].contains(pseudo.method), pseudo.parameters["prior"] == nil,
              !pseudo.labeled.isEmpty, pseudo.labeled.count <= fewLabelsPerClass * pseudo.classCount else { return nil }
        return PriorBalancing(prior: prior, origin: "--prior")
    }

    /// Selects from `pseudo`; `source` names its file in error messages. The diagnostics warn when the
    /// balancing stopped before it converged. `scores` [N]: the ranking of `.smallLoss` (required there).
    public func select(_ given: PseudoLabels, source: String, scores: [Float]? = nil) throws -> (selection: Selection, diagnostics: Diagnostics) {
        var diagnostics = Diagnostics()
        var pseudo = given
        var automatic: [String: AttributeValue] = [:]
        if balance == nil, balancesFewLabels, scores == nil, let balancing = Self.automaticBalancing(for: given, prior: prior) {
            let balanced = try balancing.apply(to: given)
            pseudo = balanced.labels
            for (name, value) in pseudo.parameters where name.hasPrefix("prior") { automatic[name] = value }
            diagnostics.note("balanced the classes to the \(prior.name) prior first (--balance auto: \(given.labeled.count) labelled samples for \(given.classCount) classes; --balance none to keep them)")
            diagnostics.append(balanced.diagnostics)
        }
        if case .smallLoss = strategy {
            precondition(scores?.count == pseudo.count && balance == nil, "small-loss ranks by the cleaning scores, unbalanced")
        }
        if weighting == .nc, pseudo.weights == nil {
            throw MTError.badInput(source, "/weights", "expected float32 [N] for --weights nc, found none (the method wrote no weights)")
        }
        let classes = pseudo.classCount
        let candidates = pseudo.unlabeledIndices
        var labels = candidates.map { pseudo.labels[$0] }
        var confidence = candidates.map { Double(pseudo.confidence[$0]) }
        var parameters = strategy.attributes
        parameters["weighting"] = .string(weighting.rawValue)
        parameters["source_method"] = .string(pseudo.method)

        // Rows of the candidates' distributions (balanced when asked): needed for balancing and margins.
        var rows: [Double]? = nil
        if let balance {
            guard let classPrior = prior.marginals(classes: classes, labeledLabels: pseudo.labeledLabels) else {
                throw MTError.usage("--prior: expected \(classes) nonnegative class weights with a positive sum (the classes of \(source))")
            }
            var gathered = [Float](repeating: 0, count: candidates.count * classes)
            for (row, index) in candidates.enumerated() {
                for c in 0..<classes { gathered[row * classes + c] = pseudo.probs[index * classes + c] }
            }
            let result = balance.balance(gathered, rows: candidates.count, classes: classes, prior: classPrior)
            if !result.converged {
                diagnostics.warn("Sinkhorn-Knopp stopped after \(result.iterations) iterations with marginal error \(result.marginalError) > tolerance \(balance.tolerance)")
            }
            for (row, label) in Argmax.rows(result.probs, columns: classes).enumerated() {
                labels[row] = Int32(label)
                confidence[row] = result.probs[row * classes + label]
            }
            rows = result.probs
            parameters["balance"] = .string("sinkhorn")
            parameters["prior"] = .string(prior.name)
            parameters["prior_marginals"] = .doubles(classPrior)
            parameters["sinkhorn_lambda"] = .double(balance.lambda)
            parameters["sinkhorn_max_iterations"] = .int(balance.maxIterations)
            parameters["sinkhorn_tolerance"] = .double(balance.tolerance)
            parameters["sinkhorn_iterations"] = .int(result.iterations)
            parameters["sinkhorn_marginal_error"] = .double(result.marginalError)
        } else if !automatic.isEmpty {
            parameters["balance"] = .string("prior")
            parameters.merge(automatic) { _, new in new }
        } else {
            parameters["balance"] = .string("none")
        }

        func distributions() -> [Double] {
            rows ?? candidates.flatMap { index in (0..<classes).map { Double(pseudo.probs[index * classes + $0]) } }
        }
        // (candidate row, label, score) of every entry, in selection order.
        var entries: [(row: Int, label: Int32, score: Double)]
        if case .perClassTop(let perClass, let top) = strategy, top > 1 {
            entries = Self.topClassLists(distributions(), rows: candidates.count, classes: classes, perClass: perClass, topClasses: top)
        } else {
            var score = confidence
            if case .reliable = strategy {
                let distributions = distributions()
                score = candidates.indices.map { Self.margin(distributions, row: $0, classes: classes) }
            }
            if case .smallLoss = strategy, let scores { score = candidates.map { Double(scores[$0]) } }
            let ranked = Self.rank(score, candidates: candidates)
            entries = Self.choose(strategy, ranked: ranked, labels: labels, confidence: confidence, classes: classes)
                .map { ($0, labels[$0], score[$0]) }
        }

        let kept = excludesLabeled ? 0 : pseudo.labeled.count
        var index = Array(pseudo.labeled.prefix(kept))
        var selectedLabels = Array(pseudo.labeledLabels.prefix(kept))
        var weights = [Float](repeating: 1, count: kept)
        var selectedConfidence = [Float](repeating: 1, count: kept)
        for entry in entries {
            let sample = candidates[entry.row]
            index.append(sample)
            selectedLabels.append(entry.label)
            selectedConfidence.append(Float(entry.score))
            switch weighting {
            // With several classes per sample the weight is the probability of the entry's class.
            case .confidence: weights.append(Float(entry.label == labels[entry.row] ? confidence[entry.row] : entry.score))
            case .uniform: weights.append(1)
            case .nc: weights.append(pseudo.weights![sample])
            }
        }
        if excludesLabeled { parameters["exclude_labeled"] = .int(1) }
        var selection = Selection(index: index, labels: selectedLabels, weights: weights, confidence: selectedConfidence,
                                  labeledCount: kept, sampleCount: pseudo.count, classCount: classes,
                                  strategy: strategy.name, parameters: parameters)
        // Each entry's distribution (the balanced one when balancing), one-hot for labelled samples: the
        // soft targets of distillation.
        var probs = [Float](repeating: 0, count: selection.count * classes)
        for (position, label) in selectedLabels.prefix(kept).enumerated() { probs[position * classes + Int(label)] = 1 }
        for (offset, entry) in entries.enumerated() {
            let position = kept + offset, sample = candidates[entry.row]
            for c in 0..<classes {
                probs[position * classes + c] = rows.map { Float($0[entry.row * classes + c]) } ?? pseudo.probs[sample * classes + c]
            }
        }
        selection.probs = probs
        return (selection, diagnostics)
    }

    /// Top-K per class over the top P classes: for each class c, the rows whose P most likely classes
    /// (ties to the lower class) include c, ranked by their probability of c (ties to the lower row), the
    /// first `perClass` kept. The entries of all classes are merged by decreasing score, ties by the lower
    /// row, then the lower class.
    static func topClassLists(_ probs: [Double], rows: Int, classes: Int, perClass: Int, topClasses: Int) -> [(row: Int, label: Int32, score: Double)] {
        var lists = [[Int]](repeating: [], count: classes)
        for row in 0..<rows {
            let order = (0..<classes).sorted { probs[row * classes + $0] != probs[row * classes + $1] ? probs[row * classes + $0] > probs[row * classes + $1] : $0 < $1 }
            for c in order.prefix(topClasses) { lists[c].append(row) }
        }
        var entries: [(row: Int, label: Int32, score: Double)] = []
        for c in 0..<classes {
            let ranked = lists[c].sorted { probs[$0 * classes + c] != probs[$1 * classes + c] ? probs[$0 * classes + c] > probs[$1 * classes + c] : $0 < $1 }
            entries += ranked.prefix(perClass).map { ($0, Int32(c), probs[$0 * classes + c]) }
        }
        return entries.sorted { $0.score != $1.score ? $0.score > $1.score : ($0.row != $1.row ? $0.row < $1.row : $0.label < $1.label) }
    }

    /// Candidate rows by decreasing score, ties by the lower row (= lower sample index).
    static func rank(_ score: [Double], candidates: [Int]) -> [Int] {
        candidates.indices.sorted { score[$0] != score[$1] ? score[$0] > score[$1] : $0 < $1 }
    }

    static func choose(_ strategy: SelectionStrategy, ranked: [Int], labels: [Int32], confidence: [Double],
                       classes: Int) -> [Int] {
        switch strategy {
        case .ratio(let ratio):
            // The small epsilon keeps e.g. 0.29 * 100 = 28.999999999999996 from losing a sample.
            let count = min(ranked.count, Int((ratio * Double(ranked.count) + 1e-9).rounded(.down)))
            return Array(ranked.prefix(count))
        case .threshold(let threshold):
            // Compared in float32, the precision confidences are stored in, so that 0.7 keeps a stored 0.7.
            return ranked.filter { Float(confidence[$0]) >= Float(threshold) }
        case .perClassTop(let perClass, _), .reliable(let perClass), .smallLoss(let perClass):
            var taken = [Int](repeating: 0, count: classes)
            return ranked.filter { row in
                let label = Int(labels[row])
                guard taken[label] < perClass else { return false }
                taken[label] += 1
                return true
            }
        }
    }

    /// Top probability minus the second (the top itself for one class).
    static func margin(_ probs: [Double], row: Int, classes: Int) -> Double {
        var first = -Double.infinity, second = 0.0
        for c in 0..<classes {
            let p = probs[row * classes + c]
            if p > first {
                second = max(second, first)
                first = p
            } else if p > second {
                second = p
            }
        }
        return first - second
    }
}
