import MTAlgorithms
import MTCore

/// Splits a batch into a fixed number of contiguous sample ranges (`parts`, independent of the thread
/// count), which the worker threads share out; per-range partial sums are added in range order. So every
/// result, gradients included, is bit-identical for any `--threads`.
enum BatchSplit {
    /// Ranges per batch: enough for 8 threads, few enough that per-range weight-gradient buffers stay small.
    static let parts = 8

    /// The sample ranges for a batch of `count`.
    static func ranges(_ count: Int) -> [Range<Int>] {
        let parts = max(1, min(Self.parts, count))
        return (0..<parts).map { ($0 * count / parts)..<(($0 + 1) * count / parts) }
    }

    /// Runs `body(part, range)` for every range, in parallel, with OpenBLAS single-threaded inside: the
    /// parallelism is ours (nested BLAS threads would oversubscribe the cores), and a multi-threaded sgemm
    /// may round differently from a single-threaded one, which would tie results to the thread count.
    static func run(_ ranges: [Range<Int>], _ body: (Int, Range<Int>) -> Void) {
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
