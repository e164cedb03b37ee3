import CHDF5
import MTCore

/// What is stored under a dataset name: its element class and width, and its shape.
public struct H5DatasetInfo: Sendable, CustomStringConvertible {
    /// The numpy-style name of the stored type (`int16` etc. for widths mt does not write).
    public var typeName: String
    public var isInteger: Bool
    public var isFloat: Bool
    public var isString: Bool
    public var shape: [Int]

    public var description: String { "\(typeName) [\(shape.map(String.init).joined(separator: ","))]" }
}

/// How a new dataset is laid out on disk.
public struct H5Layout: Sendable {
    /// Rows per chunk; nil stores the dataset contiguously (small arrays).
    public var chunkRows: Int?
    /// gzip level 1-9 for chunked datasets; nil for none.
    public var deflate: Int?
    /// Whether rows can be appended later (unlimited first dimension; implies chunking).
    public var extendable: Bool

    public init(chunkRows: Int? = nil, deflate: Int? = nil, extendable: Bool = false) {
        self.chunkRows = chunkRows
        self.deflate = deflate
        self.extendable = extendable
    }

    public static let contiguous = H5Layout()

    /// Chunks of about 1 MiB of rows when the array is larger than that, contiguous otherwise.
    public static func automatic(shape: [Int], elementSize: Int, deflate: Int? = nil) -> H5Layout {
        let rowBytes = max(1, shape.dropFirst().reduce(1, *) * elementSize)
        let totalBytes = rowBytes * (shape.first ?? 1)
        guard totalBytes > 1 << 20 || deflate != nil, let rows = shape.first, rows > 0 else { return .contiguous }
        return H5Layout(chunkRows: max(1, min(rows, (1 << 20) / rowBytes)), deflate: deflate)
    }
}

extension H5File {
    /// Type and shape of the dataset `name`, or a one-line error if there is none.
    public func info(_ name: String) throws -> H5DatasetInfo {
        guard exists(name) else { throw MTError.badInput(path, name, "missing dataset") }
        let dataset = H5Dopen2(id, name, hid_t(H5P_DEFAULT))
        guard dataset >= 0 else { throw MTError.badInput(path, name, "not a dataset") }
        defer { H5Dclose(dataset) }
        let type = H5Dget_type(dataset)
        defer { H5Tclose(type) }
        let space = H5Dget_space(dataset)
        defer { H5Sclose(space) }
        return H5DatasetInfo(type: type, shape: Self.shape(of: space))
    }

    static func shape(of space: hid_t) -> [Int] {
        let rank = Int(H5Sget_simple_extent_ndims(space))
        guard rank > 0 else { return [] }
        var dims = [hsize_t](repeating: 0, count: rank)
        H5Sget_simple_extent_dims(space, &dims, nil)
        return dims.map { Int($0) }
    }

    /// Reads a whole dataset, converting from any stored width of the same class as `T`.
    public func read<T: H5Element>(_ name: String, as _: T.Type = T.self) throws -> H5Array<T> {
        let found = try info(name)
        try checkClass(found, of: T.self, name: name)
        var values = [T](repeating: T.zero, count: found.shape.reduce(1, *))
        if !values.isEmpty {
            try values.withUnsafeMutableBufferPointer { buffer in
                try readSlab(name, rows: 0..<(found.shape.first ?? 1), shape: found.shape, into: buffer)
            }
        }
        return H5Array(values: values, shape: found.shape)
    }

    /// Reads rows `rows` of the dataset `name` (a hyperslab over the first dimension) into `buffer`,
    /// which must hold `rows.count` times the row length. Lets a tool stream a large matrix in blocks.
    public func readRows<T: H5Element>(_ name: String, rows: Range<Int>, into buffer: UnsafeMutableBufferPointer<T>) throws {
        let found = try info(name)
        try checkClass(found, of: T.self, name: name)
        guard let total = found.shape.first, rows.lowerBound >= 0, rows.upperBound <= total else {
            throw MTError.badInput(path, name, "rows \(rows) out of range for shape \(found.shape)")
        }
        precondition(buffer.count >= rows.count * found.shape.dropFirst().reduce(1, *), "buffer too small")
        try readSlab(name, rows: rows, shape: found.shape, into: buffer)
    }

    /// Reads rows `rows` and returns them as an array.
    public func readRows<T: H5Element>(_ name: String, rows: Range<Int>, as _: T.Type = T.self) throws -> H5Array<T> {
        let found = try info(name)
        var values = [T](repeating: T.zero, count: rows.count * found.shape.dropFirst().reduce(1, *))
        try values.withUnsafeMutableBufferPointer { try readRows(name, rows: rows, into: $0) }
        return H5Array(values: values, shape: [rows.count] + found.shape.dropFirst())
    }

    private func checkClass<T: H5Element>(_ found: H5DatasetInfo, of _: T.Type, name: String) throws {
        let matches = T.isFloatingPoint ? found.isFloat : found.isInteger
        guard matches else { throw MTError.badInput(path, name, "expected \(T.dtype), found \(found)") }
    }

    private func readSlab<T: H5Element>(_ name: String, rows: Range<Int>, shape: [Int], into buffer: UnsafeMutableBufferPointer<T>) throws {
        let dataset = H5Dopen2(id, name, hid_t(H5P_DEFAULT))
        defer { H5Dclose(dataset) }
        let blockShape = shape.isEmpty ? [] : [rows.count] + shape.dropFirst()
        let status = Self.withRowSelection(dataset, firstRow: rows.lowerBound, shape: blockShape) { memorySpace, fileSpace in
            H5Dread(dataset, T.h5MemoryType, memorySpace, fileSpace, hid_t(H5P_DEFAULT), buffer.baseAddress)
        }
        guard status >= 0 else { throw MTError.badInput(path, name, "cannot read dataset (corrupt or truncated file?)") }
    }

    /// Calls `body(memorySpace, fileSpace)` with a selection of the block of `shape` whose first row is
    /// `firstRow` (the whole dataset for a scalar), for H5Dread/H5Dwrite.
    private static func withRowSelection(_ dataset: hid_t, firstRow: Int, shape: [Int], _ body: (hid_t, hid_t) -> herr_t) -> herr_t {
        guard !shape.isEmpty else { return body(hid_t(H5S_ALL), hid_t(H5S_ALL)) }
        let fileSpace = H5Dget_space(dataset)
        defer { H5Sclose(fileSpace) }
        var start = [hsize_t](repeating: 0, count: shape.count)
        start[0] = hsize_t(firstRow)
        let count = shape.map { hsize_t($0) }
        H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, start, nil, count, nil)
        let memorySpace = H5Screate_simple(Int32(count.count), count, nil)
        defer { H5Sclose(memorySpace) }
        return body(memorySpace, fileSpace)
    }

    // MARK: Writing

    /// Creates a dataset of `shape` (empty, to be filled with `writeRows`/`appendRows`).
    public func createDataset<T: H5Element>(_ name: String, of _: T.Type, shape: [Int], layout: H5Layout = .contiguous) throws {
        try createParents(of: name)
        let dims = shape.map { hsize_t($0) }
        var maxDims = dims
        if layout.extendable, !maxDims.isEmpty { maxDims[0] = mt_h5s_unlimited() }
        let space = shape.isEmpty ? H5Screate(H5S_SCALAR) : H5Screate_simple(Int32(dims.count), dims, maxDims)
        defer { H5Sclose(space) }
        let properties = H5Pcreate(mt_h5p_dataset_create())
        defer { H5Pclose(properties) }
        let chunkRows = layout.chunkRows ?? (layout.extendable ? 1024 : nil)
        if let chunkRows, !shape.isEmpty {
            var chunk = dims.map { max($0, 1) }
            chunk[0] = hsize_t(max(1, chunkRows))
            H5Pset_chunk(properties, Int32(chunk.count), chunk)
            if let level = layout.deflate {
                H5Pset_shuffle(properties)
                H5Pset_deflate(properties, UInt32(level))
            }
        }
        let dataset = H5Dcreate2(id, name, T.h5MemoryType, space, hid_t(H5P_DEFAULT), properties, hid_t(H5P_DEFAULT))
        guard dataset >= 0 else { throw writeFailure("cannot create dataset \(name)") }
        H5Dclose(dataset)
    }

    /// Writes a whole array as a new dataset. Arrays over 1 MiB are chunked by rows.
    public func write<T: H5Element>(_ name: String, _ values: UnsafeBufferPointer<T>, shape: [Int], deflate: Int? = nil) throws {
        precondition(shape.reduce(1, *) == values.count, "\(name): shape \(shape) does not match \(values.count) values")
        try createDataset(name, of: T.self, shape: shape,
                          layout: .automatic(shape: shape, elementSize: MemoryLayout<T>.stride, deflate: deflate))
        if !values.isEmpty { try writeRows(name, at: 0, values, shape: shape) }
    }

    public func write<T: H5Element>(_ name: String, _ values: [T], shape: [Int]? = nil, deflate: Int? = nil) throws {
        try values.withUnsafeBufferPointer { try write(name, $0, shape: shape ?? [values.count], deflate: deflate) }
    }

    public func write<T: H5Element>(_ name: String, _ array: H5Array<T>, deflate: Int? = nil) throws {
        try write(name, array.values, shape: array.shape, deflate: deflate)
    }

    /// Writes a scalar dataset.
    public func writeScalar<T: H5Element>(_ name: String, _ value: T) throws {
        try withUnsafePointer(to: value) { try write(name, UnsafeBufferPointer(start: $0, count: 1), shape: []) }
    }

    /// Overwrites rows starting at `row` of an existing dataset; `shape` is the shape of `values`.
    public func writeRows<T: H5Element>(_ name: String, at row: Int, _ values: UnsafeBufferPointer<T>, shape: [Int]) throws {
        let dataset = H5Dopen2(id, name, hid_t(H5P_DEFAULT))
        guard dataset >= 0 else { throw MTError.failure("\(path): no dataset \(name) to write") }
        // The reason is taken at once: closing the selection clears HDF5's error stack.
        var reason = ""
        let status = Self.withRowSelection(dataset, firstRow: row, shape: shape) { memorySpace, fileSpace in
            let status = H5Dwrite(dataset, T.h5MemoryType, memorySpace, fileSpace, hid_t(H5P_DEFAULT), values.baseAddress)
            if status < 0 { reason = Self.failureReason() }
            return status
        }
        guard status >= 0 else {
            H5Dclose(dataset)
            throw writeFailure("cannot write \(name)", reason: reason)
        }
        // Closing writes the chunks still cached; a failure there is a lost write too.
        guard H5Dclose(dataset) >= 0 else { throw writeFailure("cannot write \(name)") }
    }

    /// Sets the number of rows of an extendable dataset (created with `H5Layout(extendable: true)`).
    public func setRowCount(_ name: String, _ rows: Int) throws {
        var extent = try info(name).shape.map { hsize_t($0) }
        extent[0] = hsize_t(rows)
        let dataset = H5Dopen2(id, name, hid_t(H5P_DEFAULT))
        guard dataset >= 0 else { throw MTError.failure("\(path): no dataset \(name) to write") }
        defer { H5Dclose(dataset) }
        guard H5Dset_extent(dataset, extent) >= 0 else { throw MTError.failure("\(path): \(name) is not extendable") }
    }

    /// Stores one chunk that the caller has already passed through the dataset's filters (a zlib stream for
    /// `deflate` on one-byte elements, where shuffling is the identity): the chunk starting at `row`, inside
    /// the current extent. This is how compression runs on worker threads while HDF5 stays on one.
    public func writeFilteredChunk(_ name: String, row: Int, _ bytes: UnsafeRawBufferPointer, filtersSkipped: UInt32 = 0) throws {
        let dataset = H5Dopen2(id, name, hid_t(H5P_DEFAULT))
        guard dataset >= 0 else { throw MTError.failure("\(path): no dataset \(name) to write") }
        let rank = try info(name).shape.count
        var offset = [hsize_t](repeating: 0, count: rank)
        offset[0] = hsize_t(row)
        let status = H5Dwrite_chunk(dataset, hid_t(H5P_DEFAULT), filtersSkipped, offset, bytes.count, bytes.baseAddress)
        let reason = status < 0 ? Self.failureReason() : ""
        guard H5Dclose(dataset) >= 0, status >= 0 else { throw writeFailure("cannot write \(name)", reason: reason) }
    }

    /// Appends rows to an extendable dataset (created with `H5Layout(extendable: true)`).
    public func appendRows<T: H5Element>(_ name: String, _ values: UnsafeBufferPointer<T>, rows: Int) throws {
        let current = try info(name).shape
        let dataset = H5Dopen2(id, name, hid_t(H5P_DEFAULT))
        defer { H5Dclose(dataset) }
        var extent = current.map { hsize_t($0) }
        extent[0] += hsize_t(rows)
        guard H5Dset_extent(dataset, extent) >= 0 else { throw MTError.failure("\(path): \(name) is not extendable") }
        try writeRows(name, at: current[0], values, shape: [rows] + current.dropFirst())
    }
}

extension H5DatasetInfo {
    init(type: hid_t, shape: [Int]) {
        let typeClass = H5Tget_class(type)
        let size = H5Tget_size(type)
        self.shape = shape
        isInteger = typeClass == H5T_INTEGER
        isFloat = typeClass == H5T_FLOAT
        isString = typeClass == H5T_STRING
        if isInteger {
            let signed = H5Tget_sign(type) == H5T_SGN_2
            typeName = (signed ? "int" : "uint") + String(size * 8)
        } else if isFloat {
            typeName = "float" + String(size * 8)
        } else if isString {
            typeName = "string"
        } else {
            typeName = "class \(typeClass.rawValue)"
        }
    }
}
