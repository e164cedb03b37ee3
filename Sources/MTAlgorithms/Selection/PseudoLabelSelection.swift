import MTCore

/// Which unlabelled samples join the training set.
public enum SelectionStrategy: Sendable, Equatable {
    /// The `ratio` fraction of unlabelled samples with the highest confidence (the paper's finetune set).
    case ratio(Double)
    /// The K most confident samples of each predicted class (teacher/student selection at scale).
    case perClassTop(Int)
    /// Every sample with confidence at least t.
    case threshold(Double)
    /// ReLaB-style bootstrapping (Albert et al., 2021): a small, class-balanced, very clean set of the n
    /// most reliable samples per predicted class. Reliability is the margin between the top two class
    /// probabilities: a sample torn between two classes is not reliable however high its top score is.
    /// (ReLaB further cleans with a classifier trained on the propagated labels; that needs `mt-train`.)
    case reliable(Int)

    public var name: String {
        switch self {
        case .ratio: "ratio"
        case .perClassTop: "per-class-top"
        case .threshold: "threshold"
        case .reliable: "reliable"
        }
    }

    public var attributes: [String: AttributeValue] {
        switch self {
        case .ratio(let value): ["ratio": .double(value)]
        case .perClassTop(let k): ["per_class_top": .int(k)]
        case .threshold(let value): ["threshold": .double(value)]
        case .reliable(let n): ["reliable": .int(n)]
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

/// The class prior Sinkhorn-Knopp balances towards.
public enum SelectionPrior: String, CaseIterable, Sendable {
    case uniform
    /// The class frequencies of the labelled set (a class without labelled samples gets no mass).
    case labeled
}

/// Picks the training set from pseudo-labels: every labelled sample with its given label and weight 1,
/// then the unlabelled samples the strategy chooses, most confident first. Ranking ties are broken by
/// the lower sample index, so a selection is a function of its inputs alone.
public struct PseudoLabelSelection: Sendable {
    public var strategy: SelectionStrategy
    public var weighting: SelectionWeighting
    /// When set, the unlabelled distributions are rebalanced before labels and confidences are taken.
    public var balance: SinkhornKnopp?
    public var prior: SelectionPrior

    public init(strategy: SelectionStrategy, weighting: SelectionWeighting = .confidence,
                balance: SinkhornKnopp? = nil, prior: SelectionPrior = .uniform) {
        self.strategy = strategy
        self.weighting = weighting
        self.balance = balance
        self.prior = prior
    }

    /// Selects from `pseudo`; `source` names its file in error messages. The diagnostics warn when the
    /// balancing stopped before it converged.
    public func select(_ pseudo: PseudoLabels, source: String) throws -> (selection: Selection, diagnostics: Diagnostics) {
        var diagnostics = Diagnostics()
        if weighting == .nc, pseudo.weights == nil {
            throw MTError.badInput(source, "/weights", "expected float32 [N] for --weights nc, found none (the method wrote no weights)")
        }
        let classes = pseudo.classCount
        var isLabeled = [Bool](repeating: false, count: pseudo.count)
        for index in pseudo.labeled { isLabeled[index] = true }
        let candidates = (0..<pseudo.count).filter { !isLabeled[$0] }
        var labels = candidates.map { pseudo.labels[$0] }
        var confidence = candidates.map { Double(pseudo.confidence[$0]) }
        var parameters = strategy.attributes
        parameters["weighting"] = .string(weighting.rawValue)
        parameters["source_method"] = .string(pseudo.method)

        // Rows of the candidates' distributions (balanced when asked): needed for balancing and margins.
        var rows: [Double]? = nil
        if let balance {
            let classPrior = SinkhornKnopp.prior(classes: classes, labeledLabels: prior == .labeled ? pseudo.labeledLabels : nil)
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
            parameters["prior"] = .string(prior.rawValue)
            parameters["sinkhorn_lambda"] = .double(balance.lambda)
            parameters["sinkhorn_max_iterations"] = .int(balance.maxIterations)
            parameters["sinkhorn_tolerance"] = .double(balance.tolerance)
            parameters["sinkhorn_iterations"] = .int(result.iterations)
            parameters["sinkhorn_marginal_error"] = .double(result.marginalError)
        } else {
            parameters["balance"] = .string("none")
        }

        var score = confidence
        if case .reliable = strategy {
            let distributions = rows ?? candidates.flatMap { index in
                (0..<classes).map { Double(pseudo.probs[index * classes + $0]) }
            }
            score = candidates.indices.map { Self.margin(distributions, row: $0, classes: classes) }
        }
        let ranked = Self.rank(score, candidates: candidates)
        let chosen = Self.choose(strategy, ranked: ranked, labels: labels, confidence: confidence, classes: classes)

        var index = pseudo.labeled
        var selectedLabels = pseudo.labeledLabels
        var weights = [Float](repeating: 1, count: pseudo.labeled.count)
        var selectedConfidence = [Float](repeating: 1, count: pseudo.labeled.count)
        for row in chosen {
            let sample = candidates[row]
            index.append(sample)
            selectedLabels.append(labels[row])
            selectedConfidence.append(Float(score[row]))
            switch weighting {
            case .confidence: weights.append(Float(confidence[row]))
            case .uniform: weights.append(1)
            case .nc: weights.append(pseudo.weights![sample])
            }
        }
        let selection = Selection(index: index, labels: selectedLabels, weights: weights, confidence: selectedConfidence,
                                  labeledCount: pseudo.labeled.count, sampleCount: pseudo.count, classCount: classes,
                                  strategy: strategy.name, parameters: parameters)
        return (selection, diagnostics)
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
        case .perClassTop(let perClass), .reliable(let perClass):
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
