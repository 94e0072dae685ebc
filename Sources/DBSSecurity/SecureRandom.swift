internal import COpenSSL

/// Cryptographically secure random bytes from OpenSSL's `RAND_bytes` (a DRBG seeded
/// by the operating system): salts, nonces and data keys.
package enum SecureRandom {
    /// `count` random bytes.
    package static func bytes(_ count: Int) throws(SecurityError) -> [UInt8] {
        guard count >= 0 else { throw .invalidInput("cannot draw \(count) random bytes") }
        var failed = false
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            do {
                try fill(UnsafeMutableRawBufferPointer(buffer))
                initialized = count
            } catch {
                failed = true
                initialized = 0
            }
        }
        if failed { throw .randomFailure }
        return bytes
    }

    /// Fills `buffer` with random bytes, in pieces small enough for `RAND_bytes`'s
    /// `int` length.
    package static func fill(_ buffer: UnsafeMutableRawBufferPointer) throws(SecurityError) {
        var offset = 0
        while offset < buffer.count {
            let length = min(buffer.count - offset, 1 << 30)
            let start = buffer.baseAddress!.advanced(by: offset).assumingMemoryBound(to: UInt8.self)
            guard RAND_bytes(start, Int32(length)) == 1 else {
                ERR_clear_error()
                throw .randomFailure
            }
            offset += length
        }
    }
}
