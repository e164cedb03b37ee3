import Foundation
import MTCore

/// Rebalances class distributions so that the predicted class marginals match a prior: the equipartition
/// step of self-labelling (Asano, Rupprecht and Vedaldi, "Self-labelling via simultaneous clustering and
/// representation learning", ICLR 2020).
///
/// Given row distributions P [N,C] and a prior r over classes, it finds Q = diag(a) K diag(b) with
/// K = P^lambda (elementwise) such that every row of Q sums to 1/N and column c sums to r_c; Q is the
/// distribution closest to K in KL divergence with those marginals. Rows are returned rescaled to sum
/// to 1. lambda = 1 balances the given probabilities as they are; a larger lambda (self-label uses 25 on
/// network softmax outputs) sharpens them towards a hard balanced assignment first.
///
/// Everything runs in float64: the scalings of 60,000 rows span many orders of magnitude. Each row of K
/// is divided by its largest entry before the power so that no row underflows to zero (a row factor is
/// absorbed by a_i). Column sums are reduced over fixed blocks of rows in a fixed order, so the result
/// does not depend on the thread count.
public struct SinkhornKnopp: Sendable, Equatable {
    public var lambda: Double
    public var maxIterations: Int
    /// Stop when the L1 distance between the class marginals of Q and the prior is at most this.
    public var tolerance: Double

    public init(lambda: Double = 1, maxIterations: Int = 1000, tolerance: Double = 1e-6) {
        self.lambda = lambda
        self.maxIterations = maxIterations
        self.tolerance = tolerance
    }

    public struct Result: Sendable {
        /// Balanced distributions [N,C], rows summing to 1 (a row the prior gives no mass keeps P's row).
        public var probs: [Double]
        public var iterations: Int
        /// L1 distance between Q's class marginals (as a distribution) and the prior when it stopped.
        public var marginalError: Double
        public var converged: Bool
    }

    /// Rows per block of the column sums; the cut fixes their rounding (`DeterministicReduction`).
    private static let blockRows = 2048

    /// The class scalings of a balance, b in Q = diag(a) K diag(b), and how the iteration ended.
    public struct Factors: Sendable {
        public var columnScaling: [Double]
        public var iterations: Int
        public var marginalError: Double
        public var converged: Bool
    }

    /// Balances `probs` [rows, classes] towards `prior` (nonnegative, summing to 1).
    public func balance(_ probs: [Float], rows: Int, classes: Int, prior: [Double]) -> Result {
        precondition(probs.count == rows * classes && prior.count == classes)
        guard rows > 0, classes > 0 else { return Result(probs: [], iterations: 0, marginalError: 0, converged: true) }
        let solved = solve(probs, rows: rows, classes: classes, prior: prior)
        var kernel = solved.kernel
        let (a, b, factors) = (solved.a, solved.factors.columnScaling, solved.factors)
        // Q scaled by N so that rows sum to 1; rows the scaling zeroed keep their original distribution.
        Self.forEachRow(&kernel, probs, rows: rows, classes: classes) { k, p, row in
            var total = 0.0
            for c in 0..<classes {
                k[c] *= a[row] * b[c]
                total += k[c]
            }
            if total > 0 {
                for c in 0..<classes { k[c] /= total }
            } else {
                for c in 0..<classes { k[c] = Double(p[c]) }
            }
        }
        return Result(probs: kernel, iterations: factors.iterations, marginalError: factors.marginalError, converged: factors.converged)
    }

    /// Only the class scalings b of `balance` (what a per-class bias needs), without forming Q.
    public func balanceFactors(_ probs: [Float], rows: Int, classes: Int, prior: [Double]) -> Factors {
        precondition(probs.count == rows * classes && prior.count == classes)
        guard rows > 0, classes > 0 else { return Factors(columnScaling: prior.map { _ in 1 }, iterations: 0, marginalError: 0, converged: true) }
        return solve(probs, rows: rows, classes: classes, prior: prior).factors
    }

    /// The kernel K = (P / rowmax)^lambda and the alternating scalings a [rows] and b [classes].
    private func solve(_ probs: [Float], rows: Int, classes: Int, prior: [Double]) -> (kernel: [Double], a: [Double], factors: Factors) {
        var kernel = [Double](repeating: 0, count: rows * classes)
        let lambda = self.lambda
        Self.forEachRow(&kernel, probs, rows: rows, classes: classes) { k, p, _ in
            var largest: Float = 0
            for c in 0..<classes { largest = max(largest, p[c]) }
            guard largest > 0 else { return }
            for c in 0..<classes {
                let ratio = Double(p[c]) / Double(largest)
                k[c] = lambda == 1 ? ratio : (ratio > 0 ? pow(ratio, lambda) : 0)
            }
        }
        var a = [Double](repeating: 1, count: rows)
        var b = [Double](repeating: 0, count: classes)
        let rowTarget = 1 / Double(rows)
        var iterations = 0
        var error = Double.infinity
        while true {
            let sums = columnSums(kernel, a, rows: rows, classes: classes)
            if iterations > 0 {
                error = 0
                for c in 0..<classes { error += abs(b[c] * sums[c] - prior[c]) }
                if error <= tolerance || iterations >= maxIterations { break }
            }
            for c in 0..<classes { b[c] = sums[c] > 0 ? prior[c] / sums[c] : 0 }
            kernel.withUnsafeBufferPointer { k in
                a.withUnsafeMutableBufferPointer { a in
                    b.withUnsafeBufferPointer { b in
                        let k = k, a = a, b = b
                        Parallel.forEachChunk(rows, minimumChunk: 256) { range in
                            for row in range {
                                var dot = 0.0
                                for c in 0..<classes { dot += k[row * classes + c] * b[c] }
                                a[row] = dot > 0 ? rowTarget / dot : 0
                            }
                        }
                    }
                }
            }
            iterations += 1
        }
        return (kernel, a, Factors(columnScaling: b, iterations: iterations, marginalError: error, converged: error <= tolerance))
    }

    /// Calls `body(k, p, row)` for every row, in parallel: `k` and `p` point at the row's `classes`
    /// entries of the kernel (to update) and of the given distributions.
    private static func forEachRow(_ kernel: inout [Double], _ probs: [Float], rows: Int, classes: Int,
                                   _ body: (_ k: UnsafeMutablePointer<Double>, _ p: UnsafePointer<Float>, _ row: Int) -> Void) {
        kernel.withUnsafeMutableBufferPointer { k in
            probs.withUnsafeBufferPointer { p in
                let k = k.baseAddress!, p = p.baseAddress!
                Parallel.forEachChunk(rows, minimumChunk: 256) { range in
                    for row in range { body(k + row * classes, p + row * classes, row) }
                }
            }
        }
    }

    /// sum_i K[i,c] a[i] for every class, reduced over fixed row blocks in block order.
    private func columnSums(_ kernel: [Double], _ a: [Double], rows: Int, classes: Int) -> [Double] {
        kernel.withUnsafeBufferPointer { k in
            a.withUnsafeBufferPointer { a in
                DeterministicReduction.sum(rows: rows, blockRows: Self.blockRows, width: classes) { range, sums in
                    for row in range {
                        let weight = a[row]
                        for c in 0..<classes { sums[c] += k[row * classes + c] * weight }
                    }
                }
            }
        }
    }
}
