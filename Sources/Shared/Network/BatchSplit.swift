/// Splits a batch into one contiguous range of samples per worker thread. The ranges depend only on the
/// batch size and `Parallel.threadCount`, and per-range partial sums are added in range order, so every
/// result is bit-identical for a given thread count.
enum BatchSplit {
    /// The sample ranges for a batch of `count`.
    static func ranges(_ count: Int) -> [Range<Int>] {
        let parts = max(1, min(Parallel.threadCount, count))
        return (0..<parts).map { ($0 * count / parts)..<(($0 + 1) * count / parts) }
    }

    /// Runs `body(part, range)` for every range in parallel with OpenBLAS single-threaded inside (the
    /// parallelism is ours; nested BLAS threads would oversubscribe the cores).
    static func run(_ ranges: [Range<Int>], _ body: (Int, Range<Int>) -> Void) {
        if ranges.count == 1 {
            body(0, ranges[0])
            return
        }
        BLAS.singleThreaded {
            Parallel.forEach(ranges.count) { body($0, ranges[$0]) }
        }
    }

    /// Adds the per-range partial sums `partials[p]` (each `size` long) in order into `into`.
    static func reduce(_ partials: [[Float]], into target: UnsafeMutablePointer<Float>, size: Int) {
        for partial in partials {
            partial.withUnsafeBufferPointer { p in
                for i in 0..<size { target[i] += p[i] }
            }
        }
    }
}
