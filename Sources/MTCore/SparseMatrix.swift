/// A sparse matrix in compressed sparse row (CSR) form with float32 values, the operator of the sparse
/// eigensolver.
///
/// Products are multithreaded over fixed row ranges of about equal nonzero count; every output row is
/// summed by one thread in storage order, so results are bit-identical for any `--threads`.
public struct SparseMatrix: Sendable {
    public let rows: Int
    public let columns: Int
    /// `rowStart[i]..<rowStart[i+1]` indexes row i's entries in `columnIndex` and `values`.
    public private(set) var rowStart: [Int]
    /// Column of each stored entry, increasing within a row.
    public private(set) var columnIndex: [Int32]
    public var values: [Float]
    /// Row ranges handed to the worker threads, balanced by nonzero count; fixed by the structure alone.
    private let tasks: [Range<Int>]

    public var nonzeroCount: Int { values.count }

    public init(rows: Int, columns: Int, rowStart: [Int], columnIndex: [Int32], values: [Float]) {
        precondition(rowStart.count == rows + 1 && rowStart.last == values.count && columnIndex.count == values.count)
        self.rows = rows
        self.columns = columns
        self.rowStart = rowStart
        self.columnIndex = columnIndex
        self.values = values
        tasks = Self.partition(rowStart: rowStart, rows: rows)
    }

    /// Builds a matrix from coordinate triplets, summing duplicates (in Double, in the order given, so
    /// the sum does not depend on threads).
    public init(rows: Int, columns: Int, rowIndex: [Int32], columnIndex: [Int32], values: [Float]) {
        precondition(rowIndex.count == columnIndex.count && rowIndex.count == values.count)
        // Counting sort by row keeps the given order within each row.
        var counts = [Int](repeating: 0, count: rows + 1)
        for row in rowIndex { counts[Int(row) + 1] += 1 }
        for i in 0..<rows { counts[i + 1] += counts[i] }
        var next = Array(counts.dropLast())
        var order = [Int](repeating: 0, count: rowIndex.count)
        for (entry, row) in rowIndex.enumerated() {
            order[next[Int(row)]] = entry
            next[Int(row)] += 1
        }
        // Per row: stable sort by column, then merge duplicates; rows are independent.
        var merged = [Int](repeating: 0, count: rows + 1)
        var mergedColumns = [Int32](repeating: 0, count: rowIndex.count)
        var mergedValues = [Float](repeating: 0, count: rowIndex.count)
        mergedColumns.withUnsafeMutableBufferPointer { outColumns in
            mergedValues.withUnsafeMutableBufferPointer { outValues in
                merged.withUnsafeMutableBufferPointer { mergedCount in
                    let outColumns = outColumns, outValues = outValues, mergedCount = mergedCount
                    Parallel.forEachChunk(rows, minimumChunk: 1024) { range in
                        for row in range {
                            let start = counts[row]
                            let entries = order[start..<counts[row + 1]].sorted {
                                (columnIndex[$0], $0) < (columnIndex[$1], $1)
                            }
                            var written = 0
                            var index = 0
                            while index < entries.count {
                                let column = columnIndex[entries[index]]
                                var sum = 0.0
                                while index < entries.count, columnIndex[entries[index]] == column {
                                    sum += Double(values[entries[index]])
                                    index += 1
                                }
                                outColumns[start + written] = column
                                outValues[start + written] = Float(sum)
                                written += 1
                            }
                            mergedCount[row + 1] = written
                        }
                    }
                }
            }
        }
        // Compact the rows (each was written at its uncompacted offset).
        var rowStart = [Int](repeating: 0, count: rows + 1)
        for row in 0..<rows { rowStart[row + 1] = rowStart[row] + merged[row + 1] }
        var compactColumns = [Int32](repeating: 0, count: rowStart[rows])
        var compactValues = [Float](repeating: 0, count: rowStart[rows])
        for row in 0..<rows {
            let from = counts[row], to = rowStart[row], length = merged[row + 1]
            for offset in 0..<length {
                compactColumns[to + offset] = mergedColumns[from + offset]
                compactValues[to + offset] = mergedValues[from + offset]
            }
        }
        self.init(rows: rows, columns: columns, rowStart: rowStart, columnIndex: compactColumns, values: compactValues)
    }

    /// Row sums in Double (the degrees of an affinity matrix).
    public func rowSums() -> [Double] {
        (0..<rows).map { row in
            var sum = 0.0
            for entry in rowStart[row]..<rowStart[row + 1] { sum += Double(values[entry]) }
            return sum
        }
    }

    /// The matrix `diag(left) * self * diag(right)`, e.g. D^-1/2 W D^-1/2.
    public func scaled(left: [Double], right: [Double]) -> SparseMatrix {
        precondition(left.count == rows && right.count == columns)
        var copy = self
        for row in 0..<rows {
            for entry in rowStart[row]..<rowStart[row + 1] {
                copy.values[entry] = Float(left[row] * Double(values[entry]) * right[Int(columnIndex[entry])])
            }
        }
        return copy
    }

    /// The entries as a dense row-major [rows, columns] matrix (for tests and tiny problems).
    public func dense() -> [Float] {
        var result = [Float](repeating: 0, count: rows * columns)
        for row in 0..<rows {
            for entry in rowStart[row]..<rowStart[row + 1] { result[row * columns + Int(columnIndex[entry])] += values[entry] }
        }
        return result
    }

    /// Y = M X for a block of `width` vectors: X row-major [columns, width] with leading dimension `ldx`,
    /// Y row-major [rows, width] with leading dimension `ldy`. One pass over the matrix serves the whole
    /// block, which is why the eigensolver works on blocks.
    public func multiply(_ x: UnsafePointer<Float>, ldx: Int, into y: UnsafeMutablePointer<Float>, ldy: Int, width: Int) {
        precondition(ldx >= width && ldy >= width)
        rowStart.withUnsafeBufferPointer { starts in
            columnIndex.withUnsafeBufferPointer { indices in
                values.withUnsafeBufferPointer { entries in
                    let starts = starts, indices = indices, entries = entries
                    Parallel.forEachTask(tasks.count) { task in
                        let rows = tasks[task]
                        if width % 8 == 0 {
                            Self.rowsTimesBlock8(rows, starts, indices, entries, x, ldx, y, ldy, width / 8)
                            return
                        }
                        let accumulator = UnsafeMutablePointer<Float>.allocate(capacity: width)
                        defer { accumulator.deallocate() }
                        for row in rows {
                            accumulator.initialize(repeating: 0, count: width)
                            for entry in starts[row]..<starts[row + 1] {
                                let weight = entries[entry]
                                let source = x + Int(indices[entry]) * ldx
                                for c in 0..<width { accumulator[c] += weight * source[c] }
                            }
                            (y + row * ldy).update(from: accumulator, count: width)
                        }
                    }
                }
            }
        }
    }

    /// The product's inner loop for blocks of a multiple of 8 vectors, in 8-lane SIMD registers.
    @inline(__always)
    private static func rowsTimesBlock8(_ rows: Range<Int>, _ starts: UnsafeBufferPointer<Int>, _ indices: UnsafeBufferPointer<Int32>,
                                        _ entries: UnsafeBufferPointer<Float>, _ x: UnsafePointer<Float>, _ ldx: Int,
                                        _ y: UnsafeMutablePointer<Float>, _ ldy: Int, _ lanes: Int) {
        let accumulator = UnsafeMutablePointer<SIMD8<Float>>.allocate(capacity: lanes)
        defer { accumulator.deallocate() }
        for row in rows {
            accumulator.initialize(repeating: .zero, count: lanes)
            for entry in starts[row]..<starts[row + 1] {
                let weight = SIMD8<Float>(repeating: entries[entry])
                let source = UnsafeRawPointer(x + Int(indices[entry]) * ldx)
                for lane in 0..<lanes {
                    accumulator[lane] += weight * source.loadUnaligned(fromByteOffset: lane * 32, as: SIMD8<Float>.self)
                }
            }
            let target = UnsafeMutableRawPointer(y + row * ldy)
            for lane in 0..<lanes { target.storeBytes(of: accumulator[lane], toByteOffset: lane * 32, as: SIMD8<Float>.self) }
        }
    }

    /// y = M x for one vector.
    public func multiply(_ x: [Float]) -> [Float] {
        precondition(x.count == columns)
        var y = [Float](repeating: 0, count: rows)
        x.withUnsafeBufferPointer { xs in
            y.withUnsafeMutableBufferPointer { ys in multiply(xs.baseAddress!, ldx: 1, into: ys.baseAddress!, ldy: 1, width: 1) }
        }
        return y
    }

    /// About 64 row ranges of equal nonzero count (fewer for small matrices), enough for dynamic
    /// balancing on any core count while keeping each range long.
    private static func partition(rowStart: [Int], rows: Int) -> [Range<Int>] {
        let nonzeros = rowStart[rows]
        let pieces = max(1, min(64, nonzeros / 16384, rows))
        var ranges: [Range<Int>] = []
        var lower = 0
        for piece in 1...pieces {
            let target = nonzeros * piece / pieces
            var upper = lower
            while upper < rows, rowStart[upper + 1] <= target || upper == lower { upper += 1 }
            if piece == pieces { upper = rows }
            if upper > lower { ranges.append(lower..<upper) }
            lower = upper
        }
        return ranges
    }
}
