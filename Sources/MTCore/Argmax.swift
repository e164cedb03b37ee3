/// The index of the largest value: the one argmax every tool uses (predictions, pseudo-labels, votes).
/// Ties go to the lower index, and NaN never wins, so the result is a function of the values alone.
public enum Argmax {
    /// The first index of the largest of the `count` values at `values` (0 for count 0).
    @inlinable
    public static func of<T: Comparable>(_ values: UnsafePointer<T>, count: Int) -> Int {
        var best = 0
        for index in 1..<max(1, count) where values[index] > values[best] { best = index }
        return best
    }

    /// The first index of the largest element.
    @inlinable
    public static func of<T: Comparable>(_ values: [T]) -> Int {
        values.withUnsafeBufferPointer { of($0.baseAddress!, count: $0.count) }
    }

    /// The argmax of every row of a row-major [rows, columns] matrix.
    public static func rows<T: Comparable>(_ values: [T], columns: Int) -> [Int] {
        precondition(columns > 0 && values.count % columns == 0)
        return values.withUnsafeBufferPointer { buffer in
            (0..<(buffer.count / columns)).map { of(buffer.baseAddress! + $0 * columns, count: columns) }
        }
    }
}
