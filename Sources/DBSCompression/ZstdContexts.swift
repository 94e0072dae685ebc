internal import CZstd
internal import Synchronization

/// A zstd compression context (`ZSTD_CCtx`), freed in `deinit`.
///
/// `@unchecked Sendable` because a `ContextPool` hands each context to one thread at a
/// time; the context itself is never used concurrently.
final class ZstdCompressionContext: @unchecked Sendable {
    let pointer: OpaquePointer

    init() throws(CompressionError) {
        guard let pointer = ZSTD_createCCtx() else { throw .zstdFailure("ZSTD_createCCtx: out of memory") }
        self.pointer = pointer
    }

    deinit { ZSTD_freeCCtx(pointer) }
}

/// A zstd decompression context (`ZSTD_DCtx`), freed in `deinit`. Sendable on the
/// same terms as `ZstdCompressionContext`.
final class ZstdDecompressionContext: @unchecked Sendable {
    let pointer: OpaquePointer

    init() throws(CompressionError) {
        guard let pointer = ZSTD_createDCtx() else { throw .zstdFailure("ZSTD_createDCtx: out of memory") }
        self.pointer = pointer
    }

    deinit { ZSTD_freeDCtx(pointer) }
}

/// Idle contexts kept for reuse, so that chunks compressed in parallel do not each
/// pay for allocating (and faulting in) a context of a megabyte or more. A context is
/// taken for one call and returned; the pool grows to the number of threads that use
/// it at once.
final class ContextPool<Context: AnyObject & Sendable>: Sendable {
    private let idle = Mutex<[Context]>([])
    private let make: @Sendable () throws(CompressionError) -> Context

    init(_ make: @escaping @Sendable () throws(CompressionError) -> Context) {
        self.make = make
    }

    /// Runs `body` with a context nobody else holds meanwhile.
    func withContext<R>(_ body: (Context) throws(CompressionError) -> R) throws(CompressionError) -> R {
        let context: Context
        if let reused = idle.withLock({ $0.popLast() }) { context = reused } else { context = try make() }
        defer { idle.withLock { $0.append(context) } }
        return try body(context)
    }
}

/// The text of a zstd error code.
func zstdErrorName(_ code: Int) -> String {
    String(cString: ZSTD_getErrorName(code))
}
