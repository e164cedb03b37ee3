import ArgumentParser

/// The allowed values of a numeric option, as `validate()` checks them and `--help` states them:
/// `(0, 1]`, `>= 1`, `finite > 0`, ... NaN and infinities are outside every range.
struct NumericRange: CustomStringConvertible, Sendable {
    var lower: Double?
    var lowerOpen = false
    var upper: Double?
    var upperOpen = false

    func contains(_ value: Double) -> Bool {
        guard value.isFinite else { return false }
        if let lower, lowerOpen ? !(value > lower) : !(value >= lower) { return false }
        if let upper, upperOpen ? !(value < upper) : !(value <= upper) { return false }
        return true
    }

    var description: String {
        switch (lower, upper) {
        case let (lower?, upper?):
            "in \(lowerOpen ? "(" : "[")\(Self.format(lower)), \(Self.format(upper))\(upperOpen ? ")" : "]")"
        case let (lower?, nil): "\(lowerOpen ? ">" : ">=") \(Self.format(lower))"
        case let (nil, upper?): "\(upperOpen ? "<" : "<=") \(Self.format(upper))"
        case (nil, nil): "finite"
        }
    }

    private static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }

    /// finite > 0 (temperatures, scales, tolerances).
    static let positive = NumericRange(lower: 0, lowerOpen: true)
    /// finite >= 0.
    static let nonNegative = NumericRange(lower: 0)
    /// [0, 1] (thresholds on probabilities).
    static let unit = NumericRange(lower: 0, upper: 1)
    /// (0, 1] (fractions that must keep something).
    static let fraction = NumericRange(lower: 0, lowerOpen: true, upper: 1)
    /// [0, 1) (momenta, label smoothing: 1 would never move).
    static let unitOpenAbove = NumericRange(lower: 0, upper: 1, upperOpen: true)
    /// (0, 1) (mixing weights).
    static let openUnit = NumericRange(lower: 0, lowerOpen: true, upper: 1, upperOpen: true)
    /// any finite number.
    static let finite = NumericRange()

    /// Integers: >= `minimum`.
    static func atLeast(_ minimum: Int) -> NumericRange { NumericRange(lower: Double(minimum)) }

    /// A usage error (exit 2, one line) unless `value` (when given) is in range.
    func check(_ value: Double?, _ flag: String) throws { try NumericChecks.check(value, self, flag) }
    func check(_ value: Int?, _ flag: String) throws { try NumericChecks.check(value, self, flag) }
}

/// The checks of the tools' `validate()`: one line naming the flag, the range and the value given.
enum NumericChecks {
    static func check(_ value: Double?, _ range: NumericRange, _ flag: String) throws {
        guard let value, !range.contains(value) else { return }
        throw ValidationError("\(flag) must be \(range), got \(value)")
    }

    static func check(_ value: Int?, _ range: NumericRange, _ flag: String) throws {
        guard let value, !range.contains(Double(value)) else { return }
        throw ValidationError("\(flag) must be \(range), got \(value)")
    }

    /// `help` followed by the allowed range, so that `--help` says what `validate()` accepts.
    static func help(_ text: String, _ range: NumericRange) -> ArgumentHelp {
        ArgumentHelp("\(text) (\(range))")
    }
}
