internal import COpenSSL

/// Key material: a passphrase, a key-encryption key, a data key.
///
/// The bytes live in their own heap allocation, which `deinit` wipes with
/// `OPENSSL_cleanse` (a wipe the optimizer cannot remove) before freeing it, so a key
/// does not outlive its last user in memory. They are never printed: `description`
/// shows only the length. Code that needs the bytes borrows them through
/// `withUnsafeBytes` and must not copy them into ordinary arrays.
///
/// `@unchecked Sendable` is sound because the storage is written only inside an
/// initializer, before the object is shared, and is read-only afterwards; the class
/// has no mutable state, so concurrent readers cannot race.
public final class SecureBytes: @unchecked Sendable {
    /// The whole allocation (at least one byte, so its address is never nil), wiped
    /// and freed in `deinit`.
    private let allocation: UnsafeMutableRawBufferPointer
    /// The `count` bytes of key material at the start of `allocation`.
    private let storage: UnsafeMutableRawBufferPointer

    /// `count` zero bytes.
    public convenience init(count: Int) {
        self.init(count: max(count, 0)) { (_: UnsafeMutableRawBufferPointer) in }
    }

    /// A copy of `bytes`. The caller remains responsible for wiping its own copy.
    public convenience init(_ bytes: some Collection<UInt8>) {
        self.init(count: bytes.count) { (buffer: UnsafeMutableRawBufferPointer) in
            _ = buffer.initializeMemory(as: UInt8.self, from: bytes)
        }
    }

    /// `randomCount` bytes from OpenSSL's `RAND_bytes`: a fresh data key.
    public convenience init(randomCount: Int) throws(SecurityError) {
        guard randomCount >= 0 else { throw .invalidInput("cannot draw \(randomCount) random bytes") }
        try self.init(count: randomCount) { (buffer: UnsafeMutableRawBufferPointer) throws(SecurityError) in
            try SecureRandom.fill(buffer)
        }
    }

    /// `count` bytes written by `initializer` into zeroed secure memory, so that
    /// derived or decrypted keys never pass through an ordinary buffer. If
    /// `initializer` throws, whatever it wrote is wiped before the error propagates.
    package init<E: Error>(
        count: Int,
        initializingWith initializer: (UnsafeMutableRawBufferPointer) throws(E) -> Void
    ) throws(E) {
        precondition(count >= 0, "negative SecureBytes count \(count)")
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(count, 1), alignment: 16)
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
        let visible = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<count])
        do {
            try initializer(visible)
        } catch {
            OPENSSL_cleanse(buffer.baseAddress, buffer.count)
            buffer.deallocate()
            throw error
        }
        allocation = buffer
        storage = visible
    }

    deinit {
        OPENSSL_cleanse(allocation.baseAddress, allocation.count)
        allocation.deallocate()
    }

    /// The number of bytes.
    public var count: Int { storage.count }

    /// Lends the bytes to `body` for the duration of the call only.
    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeRawBufferPointer(storage))
    }

    /// Compares with another key in time independent of where they differ.
    package func constantTimeEquals(_ other: SecureBytes) -> Bool {
        guard count == other.count else { return false }
        return withUnsafeBytes { a in
            other.withUnsafeBytes { b in
                CRYPTO_memcmp(a.baseAddress, b.baseAddress, a.count) == 0
            }
        }
    }
}

extension SecureBytes: CustomStringConvertible, CustomDebugStringConvertible {
    /// Only the length: key material must not reach logs or error messages.
    public var description: String { "SecureBytes(\(count) bytes, redacted)" }
    public var debugDescription: String { description }
}

extension SecureBytes: CustomReflectable {
    /// No children: `dump` and debuggers' mirrors show nothing of the bytes.
    public var customMirror: Mirror { Mirror(self, children: KeyValuePairs<String, Any>(), displayStyle: .class) }
}
