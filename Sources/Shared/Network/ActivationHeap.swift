#if os(Linux)
@_silgen_name("mallopt") private func mallopt(_ parameter: Int32, _ value: Int32) -> Int32
#endif

/// Keeps freed activation buffers in the process heap. Every training step allocates and frees the same
/// multi-megabyte tensors; by default glibc serves such blocks with fresh `mmap`s (or trims them off the
/// heap top) and returns them on free, so every step page-faults and zero-fills every activation again
/// (10-16% of a step in the kernel). Raising the mmap and trim thresholds lets the heap recycle them.
enum ActivationHeap {
    /// Evaluated once, on first use (`Network.init`).
    static let retain: Void = {
        #if os(Linux)
        let gib: Int32 = 1 << 30
        _ = mallopt(-3, gib)  // M_MMAP_THRESHOLD: blocks below 1 GiB come from the heap
        _ = mallopt(-1, gib)  // M_TRIM_THRESHOLD: give memory back only when 1 GiB lies free at the top
        #endif
    }()
}
