/// The k best (similarity, index) candidates of many rows at once, each row a bounded heap.
///
/// Candidates are ordered by similarity, higher first, and equal similarities by index, lower first. That
/// is a strict total order, so the k best of any set of candidates are unique: the result does not depend
/// on the order in which candidates are offered, which is what makes blocked, multi-threaded search
/// deterministic for any tile order and thread count.
///
/// Each row keeps a min-heap whose root is its current k-th best; `worst[row]` mirrors the root's
/// similarity in a contiguous array so that scans compare 16 candidates at a time against it with packed
/// compares and reach the heap only for the few that can enter (after the first tiles, almost none). Rows start full
/// of sentinels (-inf, Int32.max), which every finite candidate beats; NaN never enters.
///
/// Not thread-safe: callers give each thread disjoint rows (or lock them).
public final class TopKSelector {
    public let rows: Int
    public let k: Int
    private let similarities: UnsafeMutablePointer<Float>
    private let indices: UnsafeMutablePointer<Int32>
    private let worst: UnsafeMutablePointer<Float>

    public init(rows: Int, k: Int) {
        precondition(rows >= 0 && k >= 1)
        self.rows = rows
        self.k = k
        similarities = .allocate(capacity: max(1, rows * k))
        indices = .allocate(capacity: max(1, rows * k))
        worst = .allocate(capacity: max(1, rows))
        similarities.initialize(repeating: -.infinity, count: rows * k)
        indices.initialize(repeating: .max, count: rows * k)
        worst.initialize(repeating: -.infinity, count: rows)
    }

    deinit {
        similarities.deallocate()
        indices.deallocate()
        worst.deallocate()
    }

    /// Whether (a, i) ranks below (b, j): lower similarity, or equal similarity and higher index.
    @inline(__always)
    static func ranksBelow(_ a: Float, _ i: Int32, _ b: Float, _ j: Int32) -> Bool {
        a < b || (a == b && i > j)
    }

    /// Places (similarity, index) in the min-heap of `count` entries at `sims`/`ids` whose root slot is
    /// free: moves it down from the root past every child that ranks below it.
    @inline(__always)
    private static func siftDown(_ sims: UnsafeMutablePointer<Float>, _ ids: UnsafeMutablePointer<Int32>, count: Int,
                                 similarity: Float, index: Int32) {
        var position = 0
        while true {
            let left = 2 * position + 1
            if left >= count { break }
            var child = left
            if left + 1 < count, ranksBelow(sims[left + 1], ids[left + 1], sims[left], ids[left]) { child = left + 1 }
            guard ranksBelow(sims[child], ids[child], similarity, index) else { break }
            sims[position] = sims[child]
            ids[position] = ids[child]
            position = child
        }
        sims[position] = similarity
        ids[position] = index
    }

    /// Offers one candidate to `row`; it replaces the row's k-th best if it ranks above it.
    @inline(__always)
    public func offer(row: Int, similarity: Float, index: Int32) {
        let sims = similarities + row * k, ids = indices + row * k
        guard Self.ranksBelow(sims[0], ids[0], similarity, index) else { return }
        // Replace the root (the k-th best) and sift the new candidate down to its place.
        Self.siftDown(sims, ids, count: k, similarity: similarity, index: index)
        worst[row] = sims[0]
    }

    /// Offers `count` contiguous candidates to one row: `values[j]` has index `firstIndex + j`. The index
    /// `excluded` (the row itself in a self-search; -1 for none) is skipped.
    @inline(__always)
    public func scanRow(_ row: Int, _ values: UnsafePointer<Float>, count: Int, firstIndex: Int, excluded: Int = -1) {
        var threshold = worst[row]
        // The splat lives in a variable updated with the threshold: splatting inside the comparison
        // compiles to a lane-by-lane loop instead of packed compares.
        var bound = SIMD16<Float>(repeating: threshold)
        var j = 0
        while j + 16 <= count {
            if any(UnsafeRawPointer(values + j).loadUnaligned(as: SIMD16<Float>.self) .>= bound) {
                for t in j..<(j + 16) where values[t] >= threshold && firstIndex + t != excluded {
                    offer(row: row, similarity: values[t], index: Int32(firstIndex + t))
                    threshold = worst[row]
                }
                bound = SIMD16(repeating: threshold)
            }
            j += 16
        }
        while j < count {
            if values[j] >= threshold && firstIndex + j != excluded {
                offer(row: row, similarity: values[j], index: Int32(firstIndex + j))
                threshold = worst[row]
            }
            j += 1
        }
    }

    /// The transposed scan of a symmetric search: `values[j]` is the similarity of candidate `index` to
    /// row `firstRow + j`, for `count` consecutive rows, each compared with its own k-th best.
    @inline(__always)
    public func scanColumn(firstRow: Int, _ values: UnsafePointer<Float>, count: Int, index: Int) {
        let thresholds = worst + firstRow
        var j = 0
        while j + 16 <= count {
            let chunk = UnsafeRawPointer(values + j).loadUnaligned(as: SIMD16<Float>.self)
            if any(chunk .>= UnsafeRawPointer(thresholds + j).loadUnaligned(as: SIMD16<Float>.self)) {
                for t in j..<(j + 16) where values[t] >= thresholds[t] {
                    offer(row: firstRow + t, similarity: values[t], index: Int32(index))
                }
            }
            j += 16
        }
        while j < count {
            if values[j] >= thresholds[j] { offer(row: firstRow + j, similarity: values[j], index: Int32(index)) }
            j += 1
        }
    }

    /// Sorts every row best first (heap sort in place, in parallel) and returns the rows as [rows, k]
    /// arrays of indices and similarities. Rows that received fewer than k candidates end in sentinels.
    public func sortedRows() -> (indices: [Int32], similarities: [Float]) {
        let k = self.k, similarities = self.similarities, indices = self.indices
        Parallel.forEachChunk(rows, minimumChunk: 1024) { range in
            for row in range {
                let sims = similarities + row * k, ids = indices + row * k
                // Repeatedly move the root (the worst left) to the end of the shrinking heap.
                for end in stride(from: k - 1, to: 0, by: -1) {
                    let s = sims[end], i = ids[end]
                    sims[end] = sims[0]
                    ids[end] = ids[0]
                    Self.siftDown(sims, ids, count: end, similarity: s, index: i)
                }
            }
        }
        return (Array(UnsafeBufferPointer(start: indices, count: rows * k)),
                Array(UnsafeBufferPointer(start: similarities, count: rows * k)))
    }
}
