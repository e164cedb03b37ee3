import CHDF5
import MTCore

/// The element types mt stores in HDF5, named as numpy names them.
public enum H5DType: String, Sendable, CustomStringConvertible {
    case uint8, int32, int64, float32, float64, string
    public var description: String { rawValue }
}

/// A Swift scalar with a native HDF5 memory type. Reading converts any stored width of the same class
/// (integer or float) to this type, as h5py's `astype` would; a class mismatch is an error.
public protocol H5Element: Sendable {
    static var h5MemoryType: hid_t { get }
    static var dtype: H5DType { get }
    static var isFloatingPoint: Bool { get }
    static var zero: Self { get }
}

extension UInt8: H5Element {
    public static var h5MemoryType: hid_t { mt_h5t_native_uint8() }
    public static var dtype: H5DType { .uint8 }
    public static var isFloatingPoint: Bool { false }
    public static var zero: UInt8 { 0 }
}

extension Int32: H5Element {
    public static var h5MemoryType: hid_t { mt_h5t_native_int32() }
    public static var dtype: H5DType { .int32 }
    public static var isFloatingPoint: Bool { false }
    public static var zero: Int32 { 0 }
}

extension Int64: H5Element {
    public static var h5MemoryType: hid_t { mt_h5t_native_int64() }
    public static var dtype: H5DType { .int64 }
    public static var isFloatingPoint: Bool { false }
    public static var zero: Int64 { 0 }
}

extension Float: H5Element {
    public static var h5MemoryType: hid_t { mt_h5t_native_float() }
    public static var dtype: H5DType { .float32 }
    public static var isFloatingPoint: Bool { true }
    public static var zero: Float { 0 }
}

extension Double: H5Element {
    public static var h5MemoryType: hid_t { mt_h5t_native_double() }
    public static var dtype: H5DType { .float64 }
    public static var isFloatingPoint: Bool { true }
    public static var zero: Double { 0 }
}

/// An n-d array read from or written to HDF5: row-major values and their shape.
public struct H5Array<T: H5Element>: Sendable {
    public var values: [T]
    public var shape: [Int]

    public init(values: [T], shape: [Int]) {
        precondition(shape.reduce(1, *) == values.count, "shape \(shape) does not match \(values.count) values")
        self.values = values
        self.shape = shape
    }

    /// Number of rows (the first dimension); 1 for a scalar.
    public var rows: Int { shape.first ?? 1 }
    /// Elements per row: the product of all dimensions but the first.
    public var rowLength: Int { shape.dropFirst().reduce(1, *) }
}
