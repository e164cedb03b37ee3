import CHDF5
import Foundation
import MTCore

extension H5File {
    /// Sets (replacing) attribute `name` on the group or dataset `object`.
    public func setAttribute(_ name: String, _ value: AttributeValue, on object: String = "/") throws {
        let target = H5Oopen(id, object, hid_t(H5P_DEFAULT))
        guard target >= 0 else { throw MTError.failure("\(path): no object \(object) for attribute \(name)") }
        defer { H5Oclose(target) }
        if H5Aexists(target, name) > 0 { H5Adelete(target, name) }
        let ok: Bool
        switch value {
        case .string(let text): ok = writeStrings(to: target, attribute: name, [text], scalar: true)
        case .strings(let texts): ok = writeStrings(to: target, attribute: name, texts, scalar: false)
        case .int(let number): ok = writeNumbers(to: target, attribute: name, [Int64(number)], scalar: true)
        case .ints(let numbers): ok = writeNumbers(to: target, attribute: name, numbers.map(Int64.init), scalar: false)
        case .double(let number): ok = writeNumbers(to: target, attribute: name, [number], scalar: true)
        case .doubles(let numbers): ok = writeNumbers(to: target, attribute: name, numbers, scalar: false)
        }
        guard ok else { throw writeFailure("cannot write attribute \(name) on \(object)") }
    }

    public func setAttribute(_ name: String, _ value: String, on object: String = "/") throws {
        try setAttribute(name, .string(value), on: object)
    }

    public func setAttribute(_ name: String, _ value: Int, on object: String = "/") throws {
        try setAttribute(name, .int(value), on: object)
    }

    public func setAttribute(_ name: String, _ value: Double, on object: String = "/") throws {
        try setAttribute(name, .double(value), on: object)
    }

    /// Reads attribute `name` of `object`; nil when absent. Integer attributes of any width read as `.int(s)`,
    /// floats as `.double(s)`, fixed or variable-length strings as `.string(s)`; scalars and one-element
    /// arrays both read as the scalar case.
    public func attribute(_ name: String, on object: String = "/") -> AttributeValue? {
        guard object == "/" || exists(object) else { return nil }
        let target = H5Oopen(id, object, hid_t(H5P_DEFAULT))
        guard target >= 0 else { return nil }
        defer { H5Oclose(target) }
        guard H5Aexists(target, name) > 0 else { return nil }
        let attribute = H5Aopen(target, name, hid_t(H5P_DEFAULT))
        guard attribute >= 0 else { return nil }
        defer { H5Aclose(attribute) }
        let type = H5Aget_type(attribute)
        defer { H5Tclose(type) }
        let space = H5Aget_space(attribute)
        defer { H5Sclose(space) }
        let count = Int(H5Sget_simple_extent_npoints(space))
        let isScalar = H5Sget_simple_extent_ndims(space) == 0
        switch H5Tget_class(type) {
        case H5T_INTEGER:
            var values = [Int64](repeating: 0, count: count)
            guard H5Aread(attribute, mt_h5t_native_int64(), &values) >= 0 else { return nil }
            return isScalar || count == 1 ? .int(Int(values[0])) : .ints(values.map { Int($0) })
        case H5T_FLOAT:
            var values = [Double](repeating: 0, count: count)
            guard H5Aread(attribute, mt_h5t_native_double(), &values) >= 0 else { return nil }
            return isScalar || count == 1 ? .double(values[0]) : .doubles(values)
        case H5T_STRING:
            guard let texts = readStrings(attribute: attribute, fileType: type, count: count) else { return nil }
            return isScalar ? .string(texts[0]) : .strings(texts)
        default:
            return nil
        }
    }

    public func stringAttribute(_ name: String, on object: String = "/") -> String? {
        switch attribute(name, on: object) {
        case .string(let text): return text
        case .strings(let texts) where texts.count == 1: return texts[0]
        default: return nil
        }
    }

    public func intAttribute(_ name: String, on object: String = "/") -> Int? {
        if case .int(let value) = attribute(name, on: object) { return value }
        return nil
    }

    public func doubleAttribute(_ name: String, on object: String = "/") -> Double? {
        switch attribute(name, on: object) {
        case .double(let value): return value
        case .int(let value): return Double(value)
        default: return nil
        }
    }

    /// Names of all attributes on `object`.
    public func attributeNames(on object: String = "/") -> [String] {
        let target = H5Oopen(id, object, hid_t(H5P_DEFAULT))
        guard target >= 0 else { return [] }
        defer { H5Oclose(target) }
        var info = H5O_info_t()
        guard H5Oget_info1(target, &info) >= 0 else { return [] }
        return (0..<info.num_attrs).compactMap { index in
            let length = H5Aget_name_by_idx(target, ".", H5_INDEX_NAME, H5_ITER_INC, index, nil, 0, hid_t(H5P_DEFAULT))
            guard length >= 0 else { return nil }
            var buffer = [CChar](repeating: 0, count: Int(length) + 1)
            H5Aget_name_by_idx(target, ".", H5_INDEX_NAME, H5_ITER_INC, index, &buffer, Int(length) + 1, hid_t(H5P_DEFAULT))
            return String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }

    // MARK: String datasets

    /// Writes a 1-d dataset of variable-length UTF-8 strings (h5py reads it as an object array of str).
    public func writeStrings(_ name: String, _ texts: [String]) throws {
        try createParents(of: name)
        let type = Self.variableStringType()
        defer { H5Tclose(type) }
        var dims = [hsize_t(texts.count)]
        let space = H5Screate_simple(1, &dims, nil)
        defer { H5Sclose(space) }
        let dataset = H5Dcreate2(id, name, type, space, hid_t(H5P_DEFAULT), hid_t(H5P_DEFAULT), hid_t(H5P_DEFAULT))
        guard dataset >= 0 else { throw writeFailure("cannot create dataset \(name)") }
        defer { H5Dclose(dataset) }
        let status = Self.withCStringArray(texts) { H5Dwrite(dataset, type, hid_t(H5S_ALL), hid_t(H5S_ALL), hid_t(H5P_DEFAULT), $0) }
        guard status >= 0 else { throw writeFailure("cannot write \(name)") }
    }

    /// Reads a 1-d dataset of fixed- or variable-length strings.
    public func readStrings(_ name: String) throws -> [String] {
        let found = try info(name)
        guard found.isString, found.shape.count <= 1 else { throw MTError.badInput(path, name, "expected strings [N], found \(found)") }
        let dataset = H5Dopen2(id, name, hid_t(H5P_DEFAULT))
        defer { H5Dclose(dataset) }
        let type = H5Dget_type(dataset)
        defer { H5Tclose(type) }
        let count = found.shape.first ?? 1
        let texts = Self.readStringValues(fileType: type, count: count) { memoryType, buffer in
            H5Dread(dataset, memoryType, hid_t(H5S_ALL), hid_t(H5S_ALL), hid_t(H5P_DEFAULT), buffer)
        }
        guard let texts else { throw MTError.badInput(path, name, "cannot read strings") }
        return texts
    }

    // MARK: Helpers

    private static func variableStringType() -> hid_t {
        let type = H5Tcopy(mt_h5t_c_s1())
        H5Tset_size(type, mt_h5t_variable())
        H5Tset_cset(type, H5T_CSET_UTF8)
        return type
    }

    private static func withCStringArray<R>(_ texts: [String], _ body: (UnsafeRawPointer) -> R) -> R {
        let pointers = texts.map { strdup($0) }
        defer { pointers.forEach { free($0) } }
        return pointers.withUnsafeBufferPointer { body(UnsafeRawPointer($0.baseAddress!)) }
    }

    private func writeStrings(to target: hid_t, attribute name: String, _ texts: [String], scalar: Bool) -> Bool {
        let type = Self.variableStringType()
        defer { H5Tclose(type) }
        var dims = [hsize_t(texts.count)]
        let space = scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &dims, nil)
        defer { H5Sclose(space) }
        let attribute = H5Acreate2(target, name, type, space, hid_t(H5P_DEFAULT), hid_t(H5P_DEFAULT))
        guard attribute >= 0 else { return false }
        defer { H5Aclose(attribute) }
        return Self.withCStringArray(texts.isEmpty ? [""] : texts) { H5Awrite(attribute, type, $0) } >= 0
    }

    private func writeNumbers<T: H5Element>(to target: hid_t, attribute name: String, _ values: [T], scalar: Bool) -> Bool {
        var dims = [hsize_t(values.count)]
        let space = scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &dims, nil)
        defer { H5Sclose(space) }
        let attribute = H5Acreate2(target, name, T.h5MemoryType, space, hid_t(H5P_DEFAULT), hid_t(H5P_DEFAULT))
        guard attribute >= 0 else { return false }
        defer { H5Aclose(attribute) }
        return values.withUnsafeBufferPointer { H5Awrite(attribute, T.h5MemoryType, $0.baseAddress) } >= 0
    }

    private func readStrings(attribute: hid_t, fileType: hid_t, count: Int) -> [String]? {
        Self.readStringValues(fileType: fileType, count: count) { memoryType, buffer in H5Aread(attribute, memoryType, buffer) }
    }

    /// Reads `count` strings through `read(memoryType, buffer)`, handling both variable-length strings
    /// (an array of C pointers that HDF5 allocates and we free) and fixed-length, NUL-padded ones.
    private static func readStringValues(fileType: hid_t, count: Int,
                                         _ read: (hid_t, UnsafeMutableRawPointer) -> herr_t) -> [String]? {
        if H5Tis_variable_str(fileType) > 0 {
            let memoryType = variableStringType()
            defer { H5Tclose(memoryType) }
            var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
            let status = pointers.withUnsafeMutableBytes { read(memoryType, $0.baseAddress!) }
            guard status >= 0 else { return nil }
            defer { pointers.forEach { H5free_memory($0) } }
            return pointers.map { $0.map { String(cString: $0) } ?? "" }
        }
        let size = H5Tget_size(fileType)
        let memoryType = H5Tcopy(mt_h5t_c_s1())
        defer { H5Tclose(memoryType) }
        H5Tset_size(memoryType, size)
        var bytes = [UInt8](repeating: 0, count: size * count)
        let status = bytes.withUnsafeMutableBytes { read(memoryType, $0.baseAddress!) }
        guard status >= 0 else { return nil }
        return (0..<count).map { index in
            let slice = bytes[(index * size)..<((index + 1) * size)]
            return String(decoding: slice.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}
