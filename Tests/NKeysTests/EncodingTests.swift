import Testing
@testable import NKeys

@Suite struct EncodingTests {
    @Test func crc16MatchesXMODEMCheckValue() {
        for vector in Vectors.shared.crc16 {
            #expect(CRC16.checksum([UInt8](hex: vector.bytesHex)) == vector.crc)
        }
        // Little-endian trailer, as nats-io/nkeys appends it.
        #expect(CRC16.trailer(Array("123456789".utf8)) == [0xC3, 0x31])
        #expect(CRC16.checksum([]) == 0)
    }

    @Test func base32RoundTripsEveryLength() throws {
        let bytes = (0..<40).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        for length in 0...bytes.count {
            let slice = Array(bytes.prefix(length))
            let encoded = Base32.encode(slice)
            #expect(!encoded.contains("="))
            #expect(Base32.decode(encoded) == slice, "length \(length)")
        }
    }

    @Test func base32KnownAnswers() {
        // RFC 4648 §10 test vectors, padding removed.
        let cases: [(String, String)] = [("", ""), ("f", "MY"), ("fo", "MZXQ"), ("foo", "MZXW6"), ("foob", "MZXW6YQ"), ("fooba", "MZXW6YTB"), ("foobar", "MZXW6YTBOI")]
        for (plain, encoded) in cases {
            #expect(Base32.encode(Array(plain.utf8)) == encoded)
            #expect(Base32.decode(encoded) == Array(plain.utf8))
        }
        #expect(Base32.decode("MZXW6===") == nil)  // padding is not part of the nkey alphabet
        #expect(Base32.decode("mzxw6") == nil)
        #expect(Base32.decode("M") == nil)  // 1, 3 or 6 leftover characters cannot be bytes
        #expect(Base32.decode("MZX") == nil)
        #expect(Base32.decode("MZXW6Y") == nil)
    }

    @Test func base64URLMatchesPython() {
        for vector in Vectors.shared.base64url {
            let bytes = [UInt8](hex: vector.bytesHex)
            #expect(Base64URL.encode(bytes) == vector.encoded)
            #expect(Base64URL.decode(vector.encoded) == bytes)
        }
    }

    @Test func base64URLRejectsNonURLAlphabetAndPadding() {
        #expect(Base64URL.decode("+/8") == nil)
        #expect(Base64URL.decode("-_8") == [0xFB, 0xFF])
        #expect(Base64URL.decode("Zm8=") == nil)
        #expect(Base64URL.decode("Zm9vY") == nil)
        #expect(Base64URL.decode("a b") == nil)
    }

    @Test(arguments: Vectors.shared.sha512_256)
    func sha512_256MatchesHashlib(_ vector: Vectors.Digest) {
        let message = [UInt8](hex: vector.messageHex)
        #expect(SHA512_256.hash(message).hex == vector.digestHex)
        // Fed in uneven pieces, the result must be the same.
        var hasher = SHA512_256()
        var rest = message[...]
        var step = 1
        while !rest.isEmpty {
            hasher.update(rest.prefix(step))
            rest = rest.dropFirst(step)
            step = step * 3 + 1
        }
        #expect(hasher.finalize().hex == vector.digestHex)
    }

    @Test func sha512_256IsNotTruncatedSHA512() {
        // FIPS 180-4 example: SHA-512/256("abc").
        #expect(SHA512_256.hash(Array("abc".utf8)).hex == "53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23")
    }
}
