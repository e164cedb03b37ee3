/// One evaluated run: named scalars, a confusion matrix, per-class series and curves. Every `mt-eval`
/// subcommand reports through it, so the table, the JSON and the `metrics` artifact carry the same numbers.
public struct MetricsRun: Sendable, Equatable {
    public struct Scalar: Sendable, Equatable {
        public var name: String
        public var value: Double
        public init(_ name: String, _ value: Double) {
            self.name = name
            self.value = value
        }
    }

    public struct Series<Element: Sendable & Equatable>: Sendable, Equatable {
        public var name: String
        public var values: [Element]
        public init(_ name: String, _ values: [Element]) {
            self.name = name
            self.values = values
        }
    }

    /// Legend and group name, e.g. the input's file name without extension.
    public var name: String
    /// The evaluated file.
    public var source: String
    /// What was evaluated: `pseudo-labels`, `selection` or `model`.
    public var kind: String
    /// In report order.
    public var scalars: [Scalar]
    public var classNames: [String]
    /// Rows true class, columns predicted class [C,C].
    public var confusion: [Int]
    /// One value per class, e.g. precision, recall, support.
    public var perClass: [Series<Double>]
    /// Curves, e.g. the running accuracy by decreasing confidence.
    public var curves: [Series<Float>]

    public init(name: String, source: String, kind: String, scalars: [Scalar], classNames: [String],
                confusion: [Int], perClass: [Series<Double>], curves: [Series<Float>]) {
        precondition(confusion.count == classNames.count * classNames.count)
        precondition(perClass.allSatisfy { $0.values.count == classNames.count })
        self.name = name
        self.source = source
        self.kind = kind
        self.scalars = scalars
        self.classNames = classNames
        self.confusion = confusion
        self.perClass = perClass
        self.curves = curves
    }

    public var classCount: Int { classNames.count }

    public func scalar(_ name: String) -> Double? { scalars.first { $0.name == name }?.value }
    public func perClass(_ name: String) -> [Double]? { perClass.first { $0.name == name }?.values }
    public func curve(_ name: String) -> [Float]? { curves.first { $0.name == name }?.values }
}
