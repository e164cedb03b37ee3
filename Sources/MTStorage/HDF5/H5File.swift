import CHDF5
import Foundation
import MTCore

/// An open HDF5 file. Dataset and attribute access lives in the extensions beside this file.
///
/// Debian's serial libhdf5 is not thread-safe: use an `H5File` from one thread at a time and keep HDF5
/// calls out of parallel loops (read, compute in parallel, write).
public final class H5File {
    public let path: String
    public let writable: Bool
    let id: hid_t

    private init(path: String, id: hid_t, writable: Bool) {
        self.path = path
        self.id = id
        self.writable = writable
    }

    /// Opens an existing file read-only. Fails with a one-line error if it is missing or not HDF5.
    public static func open(_ path: String) throws -> H5File {
        mt_h5_silence_errors()
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw MTError.badInput(path, nil, "no such file")
        }
        guard !isDirectory.boolValue else { throw MTError.badInput(path, nil, "is a directory, expected an HDF5 file") }
        guard H5Fis_hdf5(path) > 0 else { throw MTError.badInput(path, nil, "not an HDF5 file") }
        let id = H5Fopen(path, mt_h5f_acc_rdonly(), hid_t(H5P_DEFAULT))
        guard id >= 0 else { throw MTError.badInput(path, nil, "cannot open HDF5 file") }
        return H5File(path: path, id: id, writable: false)
    }

    /// Creates (or truncates) a file for writing. Outputs should go through `AtomicOutput` instead.
    /// - Parameter name: the path errors name (the user's output, not the temporary file it is written as).
    public static func create(_ path: String, reportingAs name: String? = nil) throws -> H5File {
        mt_h5_silence_errors()
        let id = H5Fcreate(path, mt_h5f_acc_trunc(), hid_t(H5P_DEFAULT), hid_t(H5P_DEFAULT))
        guard id >= 0 else { throw MTError.failure("\(name ?? path): cannot create HDF5 file: \(failureReason())") }
        return H5File(path: name ?? path, id: id, writable: true)
    }

    /// Opens an existing file for reading and writing (used for resumable outputs).
    public static func openForUpdate(_ path: String) throws -> H5File {
        mt_h5_silence_errors()
        guard H5Fis_hdf5(path) > 0 else { throw MTError.badInput(path, nil, "not an HDF5 file") }
        let id = H5Fopen(path, mt_h5f_acc_rdwr(), hid_t(H5P_DEFAULT))
        guard id >= 0 else { throw MTError.failure("\(path): cannot open HDF5 file for writing") }
        return H5File(path: path, id: id, writable: true)
    }

    private var closed = false

    /// Flushes and closes; further use is a programming error. Called by `deinit` if not called before.
    /// Ignores a failure: for files read, or written and then thrown away (see `closeWritten`).
    public func close() {
        guard !closed else { return }
        closed = true
        H5Fclose(id)
    }

    deinit { close() }

    /// Writes buffered data to disk without closing.
    public func flush() throws {
        guard H5Fflush(id, H5F_SCOPE_GLOBAL) >= 0 else { throw writeFailure("cannot write the file") }
    }

    /// Flushes and closes a written file, failing if HDF5 could not write all of it (the closing flush
    /// of its metadata can fail on a full disk).
    public func closeWritten() throws {
        try flush()
        guard !closed else { return }
        closed = true
        guard H5Fclose(id) >= 0 else { throw writeFailure("cannot write the file") }
    }

    /// Closes a written file whose contents are being thrown away. Its data is cut off first, so that on
    /// a full disk the metadata HDF5 writes while closing has room and the close releases the file.
    public func closeDiscarding() {
        guard !closed, writable else { return close() }
        var handle: UnsafeMutableRawPointer?
        if H5Fget_vfd_handle(id, hid_t(H5P_DEFAULT), &handle) >= 0, let handle {
            _ = ftruncate(handle.load(as: Int32.self), 0)
        }
        close()
    }

    /// Why the last HDF5 call failed, as the system said it (the errno HDF5's file driver recorded on the
    /// error stack); call it before any other HDF5 call, which clears the stack.
    static func failureReason() -> String {
        let recorded = mt_h5_failed_errno()
        return recorded != 0 ? String(cString: strerror(recorded)) : "HDF5 error"
    }

    /// The error for a failed write: the file as the user named it, what failed, and why.
    func writeFailure(_ what: String, reason: String = H5File.failureReason()) -> MTError {
        MTError.failure("\(path): \(what): \(reason)")
    }

    // MARK: Objects

    /// Whether a dataset or group exists at `name` (an absolute or relative path such as `/a/b`).
    public func exists(_ name: String) -> Bool {
        var prefix = ""
        for component in name.split(separator: "/") {
            prefix += "/" + component
            guard H5Lexists(id, prefix, hid_t(H5P_DEFAULT)) > 0 else { return false }
        }
        return true
    }

    /// Whether `name` is a group (the root `/` included).
    public func isGroup(_ name: String) -> Bool {
        guard name == "/" || exists(name) else { return false }
        var info = H5O_info_t()
        guard H5Oget_info_by_name1(id, name, &info, hid_t(H5P_DEFAULT)) >= 0 else { return false }
        return info.type == H5O_TYPE_GROUP
    }

    /// Creates a group and any missing parents; existing groups are left as they are.
    public func createGroup(_ name: String) throws {
        var prefix = ""
        for component in name.split(separator: "/") {
            prefix += "/" + component
            if H5Lexists(id, prefix, hid_t(H5P_DEFAULT)) > 0 { continue }
            let group = H5Gcreate2(id, prefix, hid_t(H5P_DEFAULT), hid_t(H5P_DEFAULT), hid_t(H5P_DEFAULT))
            guard group >= 0 else { throw writeFailure("cannot create group \(prefix)") }
            H5Gclose(group)
        }
    }

    /// The names of the direct members of a group, in HDF5's name order.
    public func members(of group: String = "/") throws -> [String] {
        let gid = H5Gopen2(id, group, hid_t(H5P_DEFAULT))
        guard gid >= 0 else { throw MTError.badInput(path, group, "no such group") }
        defer { H5Gclose(gid) }
        var info = H5G_info_t()
        H5Gget_info(gid, &info)
        var names: [String] = []
        for index in 0..<info.nlinks {
            let length = H5Lget_name_by_idx(gid, ".", H5_INDEX_NAME, H5_ITER_INC, index, nil, 0, hid_t(H5P_DEFAULT))
            guard length >= 0 else { continue }
            var buffer = [CChar](repeating: 0, count: Int(length) + 1)
            H5Lget_name_by_idx(gid, ".", H5_INDEX_NAME, H5_ITER_INC, index, &buffer, Int(length) + 1, hid_t(H5P_DEFAULT))
            names.append(String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return names
    }

    /// Makes sure the parent group of a dataset path exists.
    func createParents(of name: String) throws {
        let parts = name.split(separator: "/")
        if parts.count > 1 { try createGroup(parts.dropLast().joined(separator: "/")) }
    }
}
