import Foundation
import MTCore

/// ReLaB's label cleaning (Albert et al. 2021, "ReLaB: reliable label bootstrapping"): a classifier trained
/// on *all* propagated labels fits the consistent ones first, so the samples it still finds costly are
/// the likely mistakes. The classifier is `LogisticRegression` on the frozen features; every unlabelled
/// sample is then scored by the probability it gives the sample's propagated label, exp(-loss), and each
/// class keeps the `perClass` samples with the smallest loss (`SelectionStrategy.smallLoss`).
public struct PseudoLabelCleaning: Sendable {
    public var perClass: Int
    public var classifier: LogisticRegression
    public var weighting: SelectionWeighting

    public init(perClass: Int, classifier: LogisticRegression = LogisticRegression(), weighting: SelectionWeighting = .confidence) {
        precondition(perClass >= 0)
        self.perClass = perClass
        self.classifier = classifier
        self.weighting = weighting
    }

    /// The classifier's probability of each sample's label, [N], how often its argmax agrees, and its final loss.
    public func scores(features: [Float], dimension d: Int, labels: [Int32], classes k: Int) -> (scores: [Float], agreement: Double, loss: Double) {
        let model = classifier.fit(features, dimension: d, labels: labels, classes: k)
        let p = model.probabilities(features)
        let predicted = Argmax.rows(p, columns: k)
        let scores = labels.enumerated().map { Float(p[$0.offset * k + Int($0.element)]) }
        let agreeing = zip(predicted, labels).filter { $0 == Int($1) }.count
        return (scores, Double(agreeing) / Double(labels.count), model.finalLoss)
    }

    /// The pool: labelled samples, then per class the `perClass` unlabelled samples with the smallest loss.
    /// `features` [N, dimension] row i belongs to sample i of `pseudo`.
    public func clean(_ pseudo: PseudoLabels, features: [Float], dimension: Int, source: String) throws -> (selection: Selection, diagnostics: Diagnostics) {
        let fit = scores(features: features, dimension: dimension, labels: pseudo.labels, classes: pseudo.classCount)
        var (selection, diagnostics) = try PseudoLabelSelection(strategy: .smallLoss(perClass), weighting: weighting)
            .select(pseudo, source: source, scores: fit.scores)
        diagnostics.note(String(format: "cleaning classifier: %d epochs, final loss %.4f, agrees with %.2f%% of the propagated labels",
                                classifier.epochs, fit.loss, 100 * fit.agreement))
        selection.parameters["cleaning_epochs"] = .int(classifier.epochs)
        selection.parameters["cleaning_lr"] = .double(classifier.learningRate)
        selection.parameters["cleaning_momentum"] = .double(classifier.momentum)
        selection.parameters["cleaning_weight_decay"] = .double(classifier.weightDecay)
        selection.parameters["cleaning_loss"] = .double(fit.loss)
        selection.parameters["cleaning_agreement"] = .double(fit.agreement)
        return (selection, diagnostics)
    }
}
