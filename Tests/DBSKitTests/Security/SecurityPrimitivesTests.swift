import Testing

@testable import DBSKit
@testable import DBSSecurity

/// Hex for test vectors, shared by the security, compression and checksum tests.
enum TestHex {
    static func bytes(_ text: String) -> [UInt8] {
        let digits = Array(text.utf8).filter { $0 != UInt8(ascii: " ") }
        precondition(digits.count % 2 == 0)
        func nibble(_ c: UInt8) -> UInt8 {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
            default: preconditionFailure("not a hex digit")
            }
        }
        return stride(from: 0, to: digits.count, by: 2).map { nibble(digits[$0]) << 4 | nibble(digits[$0 + 1]) }
    }

    static func string(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}

@Suite("Security primitives: AES-256-GCM, SHA-256, random, key memory")
struct SecurityPrimitivesTests {
    struct GCMVector: Sendable, CustomTestStringConvertible {
        let name, key, nonce, associatedData, plaintext, ciphertext, tag: String
        var testDescription: String { name }
    }

    /// McGrew and Viega, "The Galois/Counter Mode of Operation", test cases 13, 14, 16
    /// (the AES-256 cases with 96-bit IVs).
    static let gcmVectors = [
        GCMVector(
            name: "McGrew-Viega 13", key: String(repeating: "00", count: 32), nonce: String(repeating: "00", count: 12),
            associatedData: "", plaintext: "", ciphertext: "", tag: "530f8afbc74536b9a963b4f1c4cb738b"),
        GCMVector(
            name: "McGrew-Viega 14", key: String(repeating: "00", count: 32), nonce: String(repeating: "00", count: 12),
            associatedData: "", plaintext: String(repeating: "00", count: 16),
            ciphertext: "cea7403d4d606b6e074ec5d3baf39d18", tag: "d0d1c8a799996bf0265b98b5d48ab919"),
        GCMVector(
            name: "McGrew-Viega 16",
            key: "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
            nonce: "cafebabefacedbaddecaf888",
            associatedData: "feedfacedeadbeeffeedfacedeadbeefabaddad2",
            plaintext: "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
                + "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
            ciphertext: "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
                + "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
            tag: "76fc6ece0f4e1768cddf8853bb2d551b"),
    ]

    @Test(arguments: gcmVectors)
    func aesGCMKnownAnswers(_ vector: GCMVector) throws {
        let cipher = try AESGCM(key: SecureBytes(TestHex.bytes(vector.key)))
        let nonce = TestHex.bytes(vector.nonce)
        let ad = TestHex.bytes(vector.associatedData)
        let plaintext = TestHex.bytes(vector.plaintext)
        var ciphertext = [UInt8](repeating: 0, count: plaintext.count)
        var tag = [UInt8](repeating: 0, count: 16)
        try nonce.withUnsafeBytes { nonce in
            try ad.withUnsafeBytes { ad in
                try plaintext.withUnsafeBytes { plaintext in
                    try ciphertext.withUnsafeMutableBytes { ciphertext in
                        try tag.withUnsafeMutableBytes { tag in
                            try cipher.seal(
                                nonce: nonce, associatedData: ad, plaintext: plaintext,
                                ciphertext: ciphertext, tag: tag)
                        }
                    }
                }
            }
        }
        #expect(TestHex.string(ciphertext) == vector.ciphertext)
        #expect(TestHex.string(tag) == vector.tag)

        // The same context opens it again, and refuses a changed tag.
        func open(tag: [UInt8]) throws -> (Bool, [UInt8]) {
            var out = [UInt8](repeating: 0, count: ciphertext.count)
            let ok = try nonce.withUnsafeBytes { nonce in
                try ad.withUnsafeBytes { ad in
                    try ciphertext.withUnsafeBytes { ciphertext in
                        try tag.withUnsafeBytes { tag in
                            try out.withUnsafeMutableBytes { out in
                                try cipher.open(
                                    nonce: nonce, associatedData: ad, ciphertext: ciphertext, tag: tag,
                                    plaintext: out)
                            }
                        }
                    }
                }
            }
            return (ok, out)
        }
        let (verified, opened) = try open(tag: tag)
        #expect(verified && opened == plaintext)
        var badTag = tag
        badTag[15] ^= 0x01
        #expect(try open(tag: badTag).0 == false)
    }

    @Test func aesGCMRejectsShortKey() {
        #expect(throws: SecurityError.invalidInput("an AES-256-GCM key is 32 bytes, got 16")) {
            try AESGCM(key: SecureBytes(count: 16))
        }
    }

    @Test func sha256KnownAnswers() {
        // FIPS 180-2 appendix B.1 and the empty message.
        #expect(
            TestHex.string(SHA256Hasher.hash(Array("abc".utf8)))
                == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(
            TestHex.string(SHA256Hasher.hash([]))
                == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        // FIPS 180-2 appendix B.3: one million "a", fed in uneven pieces.
        var hasher = SHA256Hasher()
        let a = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        var offset = 0
        var step = 1
        while offset < a.count {
            let end = min(a.count, offset + step)
            hasher.update(a[offset..<end])
            offset = end
            step = step * 3 + 1
        }
        #expect(
            TestHex.string(hasher.finalize())
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func sha256CopiesContinueIndependently() {
        var first = SHA256Hasher()
        first.update(Array("ab".utf8))
        var second = first
        second.update(Array("x".utf8))
        first.update(Array("c".utf8))
        #expect(first.finalize() == SHA256Hasher.hash(Array("abc".utf8)))
        #expect(second.finalize() == SHA256Hasher.hash(Array("abx".utf8)))
    }

    @Test func randomBytesDiffer() throws {
        let a = try SecureRandom.bytes(32)
        let b = try SecureRandom.bytes(32)
        #expect(a.count == 32 && b.count == 32 && a != b)
        #expect(try SecureRandom.bytes(0).isEmpty)
        #expect(throws: SecurityError.self) { try SecureRandom.bytes(-1) }
        // 64 KiB of random bytes use every byte value.
        #expect(Set(try SecureRandom.bytes(65_536)).count == 256)
        let key = try SecureBytes(randomCount: 32)
        #expect(key.count == 32)
        #expect(key.withUnsafeBytes { Array($0) } != [UInt8](repeating: 0, count: 32))
    }

    @Test func secureBytesNeverPrintTheirContent() {
        let key = SecureBytes(Array("hunter2-the-secret".utf8))
        #expect(key.count == 18)
        #expect(key.withUnsafeBytes { Array($0) } == Array("hunter2-the-secret".utf8))
        var dumped = ""
        dump(key, to: &dumped)
        for text in [key.description, key.debugDescription, "\(key)", String(reflecting: key), dumped] {
            #expect(!text.contains("hunter2"))
            #expect(!text.contains("68756e74"))  // nor its hex
        }
        #expect(key.description.contains("18 bytes"))
        #expect(SecureBytes(count: 4).withUnsafeBytes { Array($0) } == [0, 0, 0, 0])
        #expect(SecureBytes(count: 0).count == 0)
    }

    @Test func secureBytesCompareInConstantTime() {
        let a = SecureBytes([1, 2, 3])
        let b = SecureBytes([1, 2, 3])
        let c = SecureBytes([1, 2, 4])
        #expect(a.constantTimeEquals(b))
        #expect(!a.constantTimeEquals(c))
        #expect(!a.constantTimeEquals(SecureBytes([1, 2])))
    }
}
