internal import CLibc

/// Process-wide settings of the C allocator for a process whose main work is the
/// pipeline (the `dbs` tool, the benchmark). A library does not change them on its
/// own: they are the host program's to choose.
public enum AllocatorTuning {
    /// Keeps freed memory for reuse instead of handing it back to the kernel: blocks
    /// up to 64 MiB come from the heap (not a fresh `mmap` each), and up to 256 MiB
    /// free at the top of the heap stays mapped.
    ///
    /// Why: the pipeline allocates and frees buffers of about 1 MiB (a stripe read
    /// back, a chunk opened) thousands of times per GiB. With glibc's defaults many of
    /// them are fresh mappings, each page faulted in and zeroed by the kernel, then
    /// unmapped again. Measured on a 2 GiB backup with verify-after-write: 12.5 to
    /// 11.3 CPU-seconds, system time 2.7-3.0 s to 1.9 s, wall 7.3-8.4 s to 7.0-7.3 s;
    /// peak RSS 128-133 to 155 MiB, still bounded by the pipeline's batches
    /// (docs/PERFORMANCE.md, "Allocator"). No effect except with glibc.
    public static func keepFreedMemory() {
        _ = clibc_set_allocator_thresholds(64 << 20, 256 << 20)
    }
}
