/// A scalar or list attribute of an artifact (a method's parameters, a solver's statistics). Storage
/// writes them as HDF5 attributes; strings are variable-length UTF-8 (what h5py writes for `str`).
public enum AttributeValue: Equatable, Sendable {
    case string(String)
    case strings([String])
    case int(Int)
    case ints([Int])
    case double(Double)
    case doubles([Double])
}
