import Foundation
import MTCore

/// How well cluster assignments match the true classes (the self-labelling paper's evaluation), from the
/// contingency table n[k][c] of the samples whose class is known:
///
/// - NMI: I(U; V) / ((H(U) + H(V)) / 2), natural logarithms (scikit-learn's arithmetic normalisation; 1
///   when both are a single group).
/// - ARI: (sum_kc C(n_kc, 2) - E) / ((A + B) / 2 - E), A = sum_k C(a_k, 2), B = sum_c C(b_c, 2),
///   E = A B / C(N, 2) (Hubert & Arabie).
/// - purity: sum_k max_c n_kc / N, the accuracy of mapping every cluster to its majority class (clusters
///   may outnumber classes).
/// - Hungarian accuracy: the best one-to-one mapping of clusters to classes (Kuhn-Munkres on the table,
///   padded to a square; O(max(K, C)^3), so meant for up to a few thousand clusters); clusters left
///   unmatched when K > C count as errors.
public struct ClusteringMetrics: Sendable, Equatable {
    public var evaluated: Int
    public var clusters: Int
    public var classes: Int
    public var nmi: Double
    public var ari: Double
    public var purity: Double
    public var hungarianAccuracy: Double
    /// The class each cluster is matched to by the Hungarian mapping (-1: unmatched).
    public var mapping: [Int]
    /// The contingency table: table[k][c] samples of class c in cluster k.
    public var table: [[Int]]

    /// - Parameters: assignments in 0..<clusters per sample; truth in 0..<classes, or < 0 (unknown: left out).
    public init(assignments: [Int32], truth: [Int32], clusters: Int, classes: Int) {
        precondition(assignments.count == truth.count)
        var table = [[Int]](repeating: [Int](repeating: 0, count: classes), count: clusters)
        var n = 0
        for (cluster, label) in zip(assignments, truth) where label >= 0 {
            table[Int(cluster)][Int(label)] += 1
            n += 1
        }
        evaluated = n
        self.clusters = clusters
        self.classes = classes
        let rows = table.map { $0.reduce(0, +) }, columns = (0..<classes).map { c in table.reduce(0) { $0 + $1[c] } }
        func entropy(_ counts: [Int]) -> Double {
            counts.reduce(0.0) { $1 > 0 ? $0 - Double($1) / Double(n) * log(Double($1) / Double(n)) : $0 }
        }
        var information = 0.0
        for k in 0..<clusters {
            for c in 0..<classes where table[k][c] > 0 {
                let joint = Double(table[k][c]) / Double(n)
                information += joint * log(Double(table[k][c]) * Double(n) / (Double(rows[k]) * Double(columns[c])))
            }
        }
        let hu = entropy(rows), hv = entropy(columns)
        nmi = n == 0 ? .nan : (hu + hv == 0 ? 1 : max(0, information) / ((hu + hv) / 2))
        func pairs(_ x: Int) -> Double { Double(x) * Double(x - 1) / 2 }
        let index = table.reduce(0.0) { $0 + $1.reduce(0.0) { $0 + pairs($1) } }
        let a = rows.reduce(0.0) { $0 + pairs($1) }, b = columns.reduce(0.0) { $0 + pairs($1) }
        let expected = n < 2 ? 0 : a * b / pairs(n)
        let maximum = (a + b) / 2
        ari = n == 0 ? .nan : (maximum == expected ? 1 : (index - expected) / (maximum - expected))
        purity = n == 0 ? .nan : Double(table.reduce(0) { $0 + ($1.max() ?? 0) }) / Double(n)
        self.table = table
        mapping = Self.hungarian(table, classes: classes)
        var matched = 0
        for (k, c) in mapping.enumerated() where c >= 0 { matched += table[k][c] }
        hungarianAccuracy = n == 0 ? .nan : Double(matched) / Double(n)
    }

    /// The maximum-weight matching of rows (clusters) to columns (classes) of `table`: Kuhn-Munkres with
    /// potentials on the cost max - n, padded to a square. Returns each row's column, -1 when unmatched.
    static func hungarian(_ table: [[Int]], classes: Int) -> [Int] {
        let rows = table.count, size = max(rows, classes)
        guard size > 0 else { return [] }
        let largest = table.reduce(0) { max($0, $1.max() ?? 0) }
        func cost(_ i: Int, _ j: Int) -> Double { i < rows && j < classes ? Double(largest - table[i][j]) : Double(largest) }
        // 1-based arrays as in the classic O(n^3) formulation: p[j] is the row matched to column j.
        var u = [Double](repeating: 0, count: size + 1), v = [Double](repeating: 0, count: size + 1)
        var p = [Int](repeating: 0, count: size + 1), way = [Int](repeating: 0, count: size + 1)
        for i in 1...size {
            p[0] = i
            var j0 = 0
            var minimum = [Double](repeating: .infinity, count: size + 1), used = [Bool](repeating: false, count: size + 1)
            repeat {
                used[j0] = true
                let i0 = p[j0]
                var delta = Double.infinity, j1 = 0
                for j in 1...size where !used[j] {
                    let current = cost(i0 - 1, j - 1) - u[i0] - v[j]
                    if current < minimum[j] { (minimum[j], way[j]) = (current, j0) }
                    if minimum[j] < delta { (delta, j1) = (minimum[j], j) }
                }
                for j in 0...size {
                    if used[j] { u[p[j]] += delta; v[j] -= delta } else { minimum[j] -= delta }
                }
                j0 = j1
            } while p[j0] != 0
            repeat {
                let j1 = way[j0]
                p[j0] = p[j1]
                j0 = j1
            } while j0 != 0
        }
        var mapping = [Int](repeating: -1, count: rows)
        for j in 1...size where p[j] >= 1 && p[j] <= rows && j <= classes { mapping[p[j] - 1] = j - 1 }
        return mapping
    }
}
