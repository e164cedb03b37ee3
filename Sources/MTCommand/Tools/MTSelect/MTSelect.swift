import ArgumentParser
import MTAlgorithms
import MTCore
import MTNetwork
import MTStorage

public struct MTSelect: ParsableCommand {
    public init() {}

    public static let configuration = CommandConfiguration(
        commandName: "mt-select",
        abstract: "Draw labelled splits and choose pseudo-labels to train on.",
        version: mtVersion,
        subcommands: [SelectSplitCommand.self, SelectPseudoCommand.self, SelectCleanCommand.self,
                      SelectExportCommand.self, SelectQueryCommand.self])
}

struct SelectSplitCommand: ToolCommand {
    static let configuration = CommandConfiguration(
        commandName: "split",
        abstract: "Draw the labelled subset: the first n of each class in a seeded permutation, or N in total; or read it from a table.",
        discussion: """
        Labels are read from a dataset or features file; samples labelled -1 are never drawn.
        --from-csv takes the labelled samples from a CSV or JSON Lines table instead (mt-select export or \
        query output, edited by a reviewer or a labelling tool): rows are matched by index and/or path, the \
        label comes from label (a number or class name) or class_name; rows with neither stay unlabelled. \
        --merge adds them to an earlier split (the table wins where they differ, with a warning); --oracle \
        answers from the data set's own labels (benchmarks of the active loop).
        Examples:
          mt-select split mnist-train.h5 --per-class 10 --seed 0 -o split-n10-s0.h5
          mt-select split train-pca.h5 --labeled 100 --seed 1 -o split.h5
          mt-select split photos.h5 --from-csv reviewed.csv -o split.h5
          mt-select split photos.h5 --from-csv answers.csv --merge split.h5 -o split-round2.h5
        """)

    @Argument(help: "Dataset or features file with /labels.") var input: String
    @Option(parsing: .unconditional, help: "Labelled samples per class (>= 1).") var perClass: Int?
    @Option(parsing: .unconditional, help: "Labelled samples in total, whatever their class (>= 1).") var labeled: Int?
    @Option(name: .customLong("from-csv"), help: "A .csv or .jsonl table of index/path and label/class_name rows.") var table: String?
    @Option(help: "With --from-csv: an earlier split to add the table's labels to.") var merge: String?
    @Flag(help: "With --from-csv: label the listed rows with INPUT's own labels (simulated labelling).") var oracle = false
    @OptionGroup var seed: SeedOption
    @OptionGroup var output: OutputOption
    @OptionGroup var common: CommonOptions

    func validate() throws {
        let rules = [perClass != nil, labeled != nil, table != nil].filter { $0 }.count
        guard rules == 1 else { throw ValidationError("give exactly one of --per-class, --labeled or --from-csv") }
        if table == nil && (merge != nil || oracle) { throw ValidationError("--merge and --oracle apply to --from-csv") }
        try NumericChecks.check(perClass, .atLeast(1), "--per-class")
        try NumericChecks.check(labeled, .atLeast(1), "--labeled")
    }

    func execute() throws {
        if let table {
            try TableSplit.run(input: input, table: table, merge: merge, oracle: oracle, output: output.output)
            return
        }
        let rule: SplitRule = perClass.map { .perClass($0) } ?? .total(labeled!)
        try LabeledSplit.run(input: input, rule: rule, seed: seed.seed, output: output.output)
    }
}

extension LabelExport.Order: ExpressibleByArgument {}
extension ActiveQuery.Strategy: ExpressibleByArgument {}

struct SelectExportCommand: ToolCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a selection or pseudo-labels file as a CSV or JSON Lines table for a labelling tool.",
        discussion: """
        Columns: index, path (with --dataset from a folder import), label, class_name, confidence, labeled \
        (given by a human rather than propagated). The format follows -o's extension (.csv or .jsonl). \
        Edited tables come back with mt-select split --from-csv.
        Examples:
          mt-select export selection.h5 --dataset photos.h5 -o review.csv
          mt-select export pseudo.h5 --dataset photos.h5 --order least-confident --exclude-labeled -o review.jsonl
        """)

    @Argument(help: "Selection or pseudo-labels file.") var input: String
    @Option(help: "The data set the indices refer to (paths and class names).") var dataset: String?
    @Option(help: "stored (the file's order), least-confident or most-confident first.") var order: LabelExport.Order = .stored
    @Flag(help: "Leave out the samples a human labelled.") var excludeLabeled = false
    @OptionGroup var output: OutputOption
    @OptionGroup var common: CommonOptions

    func execute() throws {
        try LabelExport.run(input: input, dataset: dataset, order: order, excludeLabeled: excludeLabeled, output: output.output)
    }
}

struct SelectQueryCommand: ToolCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Propose the next images for a human to label (active learning).",
        discussion: """
        --by margin (default): the smallest top-two probability margin, taking turns over the predicted \
        classes (--unbalanced: globally smallest). coverage: farthest first in the metric of --features \
        from the labelled samples (k-centre greedy). mix: --coverage-share of the budget by coverage, the \
        rest by margin. random: uniform (the baseline). The table (-o .csv or .jsonl) has empty label and \
        class_name columns to fill; mt-select split --from-csv turns the answers into a split.
        Examples:
          mt-select query pseudo.h5 --budget 10 --dataset photos.h5 -o next.csv
          mt-select query pseudo.h5 --budget 100 --by mix --features features.h5 -o next.csv
        """)

    @Argument(help: "Pseudo-labels file (from mt-knn or mt-ncut).") var input: String
    @Option(parsing: .unconditional, help: "Images to propose (>= 1).") var budget: Int
    @Option(help: "margin, coverage, mix or random.") var by: ActiveQuery.Strategy = .margin
    @Option(help: "Features file (needed by coverage and mix).") var features: String?
    @Option(parsing: .unconditional, help: NumericChecks.help("mix: share of the budget chosen by coverage", .unit)) var coverageShare = 0.5
    @Flag(help: "margin: the globally least certain, not in turns over the predicted classes.") var unbalanced = false
    @Option(help: "The data set the indices refer to (paths and class names in the table).") var dataset: String?
    @OptionGroup var seed: SeedOption
    @OptionGroup var output: OutputOption
    @OptionGroup var common: CommonOptions

    func validate() throws {
        try NumericChecks.check(budget, .atLeast(1), "--budget")
        try NumericChecks.check(coverageShare, .unit, "--coverage-share")
    }

    func execute() throws {
        var query = ActiveQuery(budget: budget, strategy: by)
        query.coverageShare = coverageShare
        query.balanced = !unbalanced
        query.seed = seed.seed
        try query.run(input: input, features: features, dataset: dataset, output: output.output)
    }
}
