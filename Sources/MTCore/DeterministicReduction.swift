/// Sums over the rows of a tall matrix whose bits do not depend on the thread count.
///
/// Rows 0..<rows are cut into blocks of `blockRows` consecutive rows (the last one may be shorter), so
/// the cut depends only on `rows` and `blockRows`. Each block's partial sum of `width` values is
/// computed by one call on whichever worker thread takes the block, into a slot of its own; the
/// partials are then added in block order, total = ((p0 + p1) + p2) + ... . Floating-point addition is
/// not associative: fixing the cut and the order is what fixes the result, so a caller's block size is
/// part of its numerical definition (changing it changes the rounding, not the meaning).
public enum DeterministicReduction {
    /// Calls `body(block, rows)` for every block of `blockRows` rows of 0..<rows, in parallel (blocks
    /// are handed to threads dynamically; `body` must not depend on which thread runs it).
    public static func forEachBlock(rows: Int, blockRows: Int, _ body: (_ block: Int, _ rows: Range<Int>) -> Void) {
        precondition(blockRows >= 1)
        let blocks = (rows + blockRows - 1) / blockRows
        Parallel.forEachTask(blocks) { block in
            body(block, (block * blockRows)..<min(rows, (block + 1) * blockRows))
        }
    }

    /// Writes the sum over every block of its partial into `result[0..<width]` (zeros when `rows` is 0).
    ///
    /// `partial(rows, sums)` computes the block `rows`'s contribution into `sums[0..<width]`, which hold
    /// zeros on entry: it may accumulate (`+=`) or overwrite (a gemm with beta 0). The first partial is
    /// copied and the others added to it in block order; that equals starting from zero, since a sum
    /// accumulated from +0 is never -0.
    public static func sum<T: FloatingPoint>(rows: Int, blockRows: Int, width: Int, into result: UnsafeMutablePointer<T>,
                                             _ partial: (_ rows: Range<Int>, _ sums: UnsafeMutablePointer<T>) -> Void) {
        let blocks = (rows + blockRows - 1) / blockRows
        guard blocks > 0 else {
            result.update(repeating: 0, count: width)
            return
        }
        let partials = UnsafeMutablePointer<T>.allocate(capacity: blocks * width)
        partials.initialize(repeating: 0, count: blocks * width)
        defer { partials.deallocate() }
        forEachBlock(rows: rows, blockRows: blockRows) { block, range in partial(range, partials + block * width) }
        result.update(from: partials, count: width)
        for block in 1..<blocks {
            let source = partials + block * width
            for i in 0..<width { result[i] += source[i] }
        }
    }

    /// `sum` into a new array.
    public static func sum<T: FloatingPoint>(rows: Int, blockRows: Int, width: Int,
                                             _ partial: (_ rows: Range<Int>, _ sums: UnsafeMutablePointer<T>) -> Void) -> [T] {
        var result = [T](repeating: 0, count: width)
        result.withUnsafeMutableBufferPointer { buffer in
            if width > 0 { sum(rows: rows, blockRows: blockRows, width: width, into: buffer.baseAddress!, partial) }
        }
        return result
    }
}
