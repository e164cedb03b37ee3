import CMalloc

/// Keeps freed activation buffers in the process heap. Every training step allocates and frees the same
/// multi-megabyte tensors; by default glibc serves such blocks with fresh `mmap`s (or trims them off the
/// heap top) and returns them on free, so every step page-faults and zero-fills every activation again
/// (10-16% of a step in the kernel). Raising the mmap and trim thresholds to 1 GiB lets the heap recycle them.
enum ActivationHeap {
    /// Evaluated once, on first use (`Network.init`).
    static let retain: Void = mt_retain_freed_memory(1 << 30)
}
