// glibc's mallopt and its M_* parameters are not in Swift's Glibc module; this inline function exposes
// the one setting the network engine needs.
#ifndef MT_CMALLOC_SHIM_H
#define MT_CMALLOC_SHIM_H
#if defined(__linux__)
#include <malloc.h>
#endif

/// Serve blocks below `bytes` from the heap and give memory back only when `bytes` lie free at its top,
/// instead of mapping (and zero-filling) every large block afresh. No-op where mallopt does not exist.
static inline void mt_retain_freed_memory(int bytes) {
#if defined(M_MMAP_THRESHOLD) && defined(M_TRIM_THRESHOLD)
    mallopt(M_MMAP_THRESHOLD, bytes);
    mallopt(M_TRIM_THRESHOLD, bytes);
#else
    (void)bytes;
#endif
}
#endif
