import Testing

@testable import DBSIO
@testable import DBSKit
@testable import DBSSecurity

@Suite("Security: key envelope and payload chunk cipher")
struct SecurityEnvelopeTests {
    let backupID = Array(UInt8(16)..<UInt8(32))
    let dataKey = SecureBytes(Array(UInt8(0)..<UInt8(32)))

    // MARK: Key envelope

    @Test func envelopeRoundTrips() throws {
        let dek = try SecureBytes(randomCount: 32)
        let kek = try SecureBytes(randomCount: 32)
        let ad = Array("head v1".utf8)
        let wrapped = try KeyEnvelope.wrap(dataKey: dek, keyEncryptionKey: kek, associatedData: ad)
        #expect(wrapped.bytes.count == 60)
        #expect(wrapped.ciphertext != dek.withUnsafeBytes { Array($0) })
        let parsed = try WrappedKey(bytes: wrapped.bytes)
        #expect(parsed == wrapped)
        let unwrapped = try KeyEnvelope.unwrap(parsed, keyEncryptionKey: kek, associatedData: ad)
        #expect(unwrapped.constantTimeEquals(dek))
        // A fresh random nonce each time.
        let again = try KeyEnvelope.wrap(dataKey: dek, keyEncryptionKey: kek, associatedData: ad)
        #expect(again.nonce != wrapped.nonce && again.ciphertext != wrapped.ciphertext)
    }

    @Test func wrongKeyIsWrongPassphrase() throws {
        let kek = try SecureBytes(randomCount: 32)
        let wrapped = try KeyEnvelope.wrap(dataKey: dataKey, keyEncryptionKey: kek, associatedData: [])
        #expect(throws: SecurityError.wrongPassphrase) {
            try KeyEnvelope.unwrap(wrapped, keyEncryptionKey: try SecureBytes(randomCount: 32), associatedData: [])
        }
    }

    @Test func passphraseThroughArgon2() throws {
        let salt = try SecureRandom.bytes(16)
        let parameters = KDFParameters(timeCost: 1, memoryKiB: 64, parallelism: 1)
        func kek(_ passphrase: String) throws -> SecureBytes {
            try Argon2id.deriveKey(passphrase: SecureBytes(Array(passphrase.utf8)), salt: salt, parameters: parameters)
        }
        let wrapped = try KeyEnvelope.wrap(dataKey: dataKey, keyEncryptionKey: kek("right"), associatedData: salt)
        #expect(
            try KeyEnvelope.unwrap(wrapped, keyEncryptionKey: kek("right"), associatedData: salt)
                .constantTimeEquals(dataKey))
        #expect(throws: SecurityError.wrongPassphrase) {
            try KeyEnvelope.unwrap(wrapped, keyEncryptionKey: kek("wrong"), associatedData: salt)
        }
    }

    @Test func everyFlippedBitOrChangedAssociatedDataIsRefused() throws {
        let kek = try SecureBytes(randomCount: 32)
        let ad = Array("salt and parameters".utf8)
        let bytes = try KeyEnvelope.wrap(dataKey: dataKey, keyEncryptionKey: kek, associatedData: ad).bytes
        for bit in 0..<(bytes.count * 8) {
            var damaged = bytes
            damaged[bit / 8] ^= 1 << (bit % 8)
            #expect(throws: SecurityError.wrongPassphrase, "bit \(bit)") {
                try KeyEnvelope.unwrap(WrappedKey(bytes: damaged), keyEncryptionKey: kek, associatedData: ad)
            }
        }
        #expect(throws: SecurityError.wrongPassphrase) {
            try KeyEnvelope.unwrap(WrappedKey(bytes: bytes), keyEncryptionKey: kek, associatedData: ad + [0])
        }
    }

    @Test func malformedEnvelopesAreInvalidInput() throws {
        #expect(throws: SecurityError.invalidInput("a wrapped key is 60 bytes, got 59")) {
            try WrappedKey(bytes: [UInt8](repeating: 0, count: 59))
        }
        let kek = try SecureBytes(randomCount: 32)
        let bad = WrappedKey(nonce: [0], ciphertext: [], tag: [])
        #expect(throws: SecurityError.self) { try KeyEnvelope.unwrap(bad, keyEncryptionKey: kek, associatedData: []) }
        #expect(throws: SecurityError.invalidInput("a data key is 32 bytes, got 16")) {
            try KeyEnvelope.wrap(dataKey: SecureBytes(count: 16), keyEncryptionKey: kek, associatedData: [])
        }
    }

    // MARK: Chunk cipher

    /// The nonce and associated-data layout, pinned by ciphertexts computed outside
    /// DBS (Python `cryptography`'s AESGCM, from the layout documented on
    /// `ChunkCipher`): key 00..1f, backup id 10..1f, plaintext "DBS chunk plaintext".
    @Test func chunkLayoutKnownAnswers() throws {
        let cipher = try ChunkCipher(dataKey: dataKey, backupID: backupID)
        let plaintext = Array("DBS chunk plaintext".utf8)
        #expect(
            TestHex.string(try cipher.seal(plaintext, chunkIndex: 5, isFinal: true))
                == "dce39142a0d6e0230372399d249e3b967e7c532e21b70b23a089d846ab3fef6587d024")
        #expect(
            TestHex.string(try cipher.seal(plaintext, chunkIndex: 0x0102_0304_0506_0708, isFinal: false))
                == "4013362ebe897cf068bf8d837f0e57841f81281f1a7197fcc43e07475a5852dd9e5d0f")
    }

    @Test(arguments: [0, 1, 15, 16, 17, 4096, 1 << 20])
    func chunkRoundTrips(size: Int) throws {
        let cipher = try ChunkCipher(dataKey: dataKey, backupID: backupID)
        let plaintext = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 17) }
        let sealed = try cipher.seal(plaintext, chunkIndex: 42, isFinal: false)
        #expect(sealed.count == size + ChunkCipher.tagLength)
        #expect(try cipher.open(sealed, chunkIndex: 42, isFinal: false) == plaintext)
    }

    @Test func chunkBindsIndexFlagBackupAndBytes() throws {
        let cipher = try ChunkCipher(dataKey: dataKey, backupID: backupID)
        let plaintext = Array(repeating: UInt8(0x5A), count: 1000)
        let sealed = try cipher.seal(plaintext, chunkIndex: 7, isFinal: true)
        let failed = SecurityError.authenticationFailed(chunkIndex: 7)
        #expect(throws: SecurityError.authenticationFailed(chunkIndex: 8)) {
            try cipher.open(sealed, chunkIndex: 8, isFinal: true)
        }
        #expect(throws: failed) { try cipher.open(sealed, chunkIndex: 7, isFinal: false) }
        var otherID = backupID
        otherID[0] ^= 1
        #expect(throws: failed) {
            try ChunkCipher(dataKey: dataKey, backupID: otherID).open(sealed, chunkIndex: 7, isFinal: true)
        }
        #expect(throws: failed) {
            try ChunkCipher(dataKey: SecureBytes(count: 32), backupID: backupID).open(
                sealed, chunkIndex: 7, isFinal: true)
        }
        for position in [0, 500, 999, 1000, 1015] {  // ciphertext, then tag
            var damaged = sealed
            damaged[position] ^= 0x10
            #expect(throws: failed, "byte \(position)") { try cipher.open(damaged, chunkIndex: 7, isFinal: true) }
        }
        #expect(throws: failed) { try cipher.open(Array(sealed.dropLast()), chunkIndex: 7, isFinal: true) }
        #expect(throws: failed) { try cipher.open(Array(sealed.prefix(15)), chunkIndex: 7, isFinal: true) }
        #expect(try cipher.open(sealed, chunkIndex: 7, isFinal: true) == plaintext)
    }

    /// Each chunk index gets its own nonce, so no two chunks share a keystream: the
    /// same plaintext sealed at different indices gives unrelated ciphertexts, and two
    /// different plaintexts do not XOR to what their ciphertexts XOR to (a constant
    /// nonce would make both hold).
    @Test func chunksNeverShareAKeystream() throws {
        let cipher = try ChunkCipher(dataKey: dataKey, backupID: backupID)
        let p = Array(repeating: UInt8(0x11), count: 256)
        let q = (0..<256).map { UInt8($0) }
        var bodies = Set<[UInt8]>()
        for index in UInt64(0)..<64 {
            let sealed = try cipher.seal(p, chunkIndex: index, isFinal: false)
            bodies.insert(Array(sealed.prefix(p.count)))
        }
        #expect(bodies.count == 64, "equal plaintexts at different indices gave equal ciphertexts")
        let cp = try cipher.seal(p, chunkIndex: 1, isFinal: false)
        let cq = try cipher.seal(q, chunkIndex: 2, isFinal: false)
        let cipherXOR = zip(cp, cq).prefix(p.count).map { $0 ^ $1 }
        let plainXOR = zip(p, q).map { $0 ^ $1 }
        #expect(cipherXOR != plainXOR, "chunks 1 and 2 were sealed with one keystream")
    }

    @Test func bufferFormsMatchArrayForms() throws {
        let cipher = try ChunkCipher(dataKey: dataKey, backupID: backupID)
        let plaintext = (0..<5000).map { UInt8(truncatingIfNeeded: $0 * 7) }
        let sealed = try cipher.seal(plaintext, chunkIndex: 3, isFinal: false)
        var placed = [UInt8](repeating: 0xEE, count: sealed.count)
        try plaintext.withUnsafeBytes { input in
            try placed.withUnsafeMutableBytes { try cipher.seal(input, chunkIndex: 3, isFinal: false, into: $0) }
        }
        #expect(placed == sealed)
        var opened = [UInt8](repeating: 0xEE, count: plaintext.count)
        try sealed.withUnsafeBytes { input in
            try opened.withUnsafeMutableBytes { try cipher.open(input, chunkIndex: 3, isFinal: false, into: $0) }
        }
        #expect(opened == plaintext)
        // On a failed tag the output holds zeros, not unverified plaintext.
        var refused = [UInt8](repeating: 0xEE, count: plaintext.count)
        #expect(throws: SecurityError.authenticationFailed(chunkIndex: 4)) {
            try sealed.withUnsafeBytes { input in
                try refused.withUnsafeMutableBytes { try cipher.open(input, chunkIndex: 4, isFinal: false, into: $0) }
            }
        }
        #expect(refused == [UInt8](repeating: 0, count: plaintext.count))
        var short = [UInt8](repeating: 0, count: plaintext.count)
        #expect(throws: SecurityError.invalidInput("a sealed chunk of 5000 bytes needs 5016 bytes of output, got 5000"))
        {
            try plaintext.withUnsafeBytes { input in
                try short.withUnsafeMutableBytes { try cipher.seal(input, chunkIndex: 3, isFinal: false, into: $0) }
            }
        }
    }

    @Test func chunkCipherRejectsBadKeysAndIDs() {
        #expect(throws: SecurityError.invalidInput("a data key is 32 bytes, got 31")) {
            try ChunkCipher(dataKey: SecureBytes(count: 31), backupID: backupID)
        }
        #expect(throws: SecurityError.invalidInput("a backup id is 16 bytes, got 8")) {
            try ChunkCipher(dataKey: dataKey, backupID: Array(backupID.prefix(8)))
        }
    }

    @Test func parallelSealingEqualsSerial() throws {
        let cipher = try ChunkCipher(dataKey: dataKey, backupID: backupID)
        let count = 96
        let chunks = (0..<count).map { i in (0..<(1000 + 37 * i)).map { UInt8(truncatingIfNeeded: $0 ^ i) } }
        let serial = try chunks.indices.map {
            try cipher.seal(chunks[$0], chunkIndex: UInt64($0), isFinal: $0 == count - 1)
        }
        // One item per thread, as concurrently as the machine allows.
        let sealed = Parallel.map(count: count, threads: count) { i in
            Result { try cipher.seal(chunks[i], chunkIndex: UInt64(i), isFinal: i == count - 1) }
        }
        for i in 0..<count { #expect(try sealed[i].get() == serial[i], "chunk \(i)") }
        let opened = Parallel.map(count: count, threads: count) { i in
            Result { try cipher.open(serial[i], chunkIndex: UInt64(i), isFinal: i == count - 1) }
        }
        for i in 0..<count { #expect(try opened[i].get() == chunks[i], "chunk \(i)") }
    }
}
