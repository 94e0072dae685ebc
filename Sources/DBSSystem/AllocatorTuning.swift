internal import CLibc

/// Process-wide settings of the C allocator for a process whose main work is the
/// pipeline (the `dbs` tool, the benchmark). A library does not change them on its
/// own: they are the host program's to choose.
public enum AllocatorTuning {
    /// Keeps freed memory for reuse instead of handing it back to the kernel: blocks
    /// up to 64 MiB come from the heap (not a fresh `mmap` each), and up to 32 MiB
    /// free at the top of the heap stays mapped.
    ///
    /// Why: the pipeline allocates and frees buffers of about 1 MiB (a stripe read
    /// back, a chunk opened) thousands of times per GiB. With glibc's defaults many of
    /// them are fresh mappings, each page faulted in and zeroed by the kernel, then
    /// unmapped again. Measured on a 2 GiB backup with verify-after-write: system time
    /// 2.5-3.3 s to 1.7-1.9 s of 11-12 CPU-seconds, wall 7.1-7.3 s to 6.6-7.0 s; the
    /// restore of the same tree 9.1 s to 6.6 s (docs/PERFORMANCE.md, "Second round").
    /// Peak RSS stays bounded by the pipeline's batches: a larger trim threshold
    /// (256 MiB) was no faster and kept 20 MiB more mapped. No effect except with glibc.
    public static func keepFreedMemory() {
        _ = clibc_set_allocator_thresholds(64 << 20, 32 << 20)
    }
}
