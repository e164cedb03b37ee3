import ArgumentParser
import Foundation
import MTAlgorithms
import MTCore
import MTStorage

/// How `--prior` is spelled: `uniform`, `labeled`, or a file of class marginals, read when the tool runs
/// (so that a bad file is reported as bad input, exit 2, naming it).
public enum PriorArgument: ExpressibleByArgument, Sendable, Equatable {
    case uniform
    case labeled
    case file(String)

    public init?(argument: String) {
        switch argument {
        case "uniform": self = .uniform
        case "labeled": self = .labeled
        case "": return nil
        default: self = .file(argument)
        }
    }

    public var defaultValueDescription: String {
        switch self {
        case .uniform: "uniform"
        case .labeled: "labeled"
        case .file(let path): path
        }
    }

    /// The prior it names. A file is either a dataset or features artifact (its labels' class
    /// frequencies: the marginals of a labelled set like the one propagated to) or text with one
    /// nonnegative weight per class, separated by commas, spaces or newlines (`#` starts a comment).
    public func resolve() throws -> ClassPrior {
        switch self {
        case .uniform: return .uniform
        case .labeled: return .labeled
        case .file(let path):
            guard FileManager.default.isReadableFile(atPath: path) else {
                throw MTError.badInput(path, nil, "expected a readable prior file (class weights as text, or a dataset), found none")
            }
            if let handle = FileHandle(forReadingAtPath: path), let head = try? handle.read(upToCount: 8),
               head == Data([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]) {
                let truth = try TruthLabels.read(path)
                let known = truth.labels.filter { $0 >= 0 }
                guard !known.isEmpty else { throw MTError.badInput(path, "/labels", "expected some known labels (>= 0) for a prior, found none") }
                return .marginals(ClassPrior.labeled.marginals(classes: truth.classCount, labeledLabels: known)!)
            }
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw MTError.badInput(path, nil, "expected UTF-8 text of class weights")
            }
            var weights: [Double] = []
            for line in text.split(whereSeparator: \.isNewline) {
                let content = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
                for token in content.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" }) {
                    guard let value = Double(token), value >= 0, value.isFinite else {
                        throw MTError.badInput(path, nil, "expected nonnegative class weights, found \"\(token)\"")
                    }
                    weights.append(value)
                }
            }
            guard weights.reduce(0, +) > 0 else { throw MTError.badInput(path, nil, "expected class weights with a positive sum, found none") }
            return .marginals(weights)
        }
    }
}

/// `--prior` and `--prior-lambda` of the propagation subcommands (mt-knn propagate/spread, mt-ncut
/// propagate): the class marginals the unlabelled samples' labels are balanced towards.
public struct PriorOptions: ParsableArguments {
    @Option(help: "Balance the predicted classes to this prior: uniform, labeled (the split's class frequencies), or FILE (class weights as text, or a dataset's label frequencies). Default: none.")
    public var prior: PriorArgument?

    @Option(parsing: .unconditional, help: NumericChecks.help("Sinkhorn power of --prior: 1 matches the soft class marginals, larger values the label counts", .positive))
    public var priorLambda = PriorBalancing.defaultLambda

    @Option(parsing: .unconditional, help: NumericChecks.help("Classes predicted within (1 -+ this) of their prior share are left alone; the others move to the band's edge (0: exactly the prior)", .unit))
    public var priorSlack = PriorBalancing.defaultSlack

    public init() {}

    public func validate() throws {
        try NumericChecks.check(priorLambda, .positive, "--prior-lambda")
        try NumericChecks.check(priorSlack, .unit, "--prior-slack")
    }

    /// The balancing to apply, or nil without --prior.
    public func balancing() throws -> PriorBalancing? {
        guard let prior else { return nil }
        return PriorBalancing(prior: try prior.resolve(), lambda: priorLambda, slack: priorSlack, origin: prior.defaultValueDescription)
    }
}
