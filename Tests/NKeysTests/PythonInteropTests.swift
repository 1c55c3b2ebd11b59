import Foundation
import Testing
import NKeys
import NATSTestSupport

/// Live interop with the Python `nkeys` package: it verifies what we sign, we verify what it signs.
@Suite struct PythonInteropTests {
    static let script = #"""
    import base64, os, sys
    import nacl.signing, nkeys

    def raw_public(key):
        raw = base64.b32decode(key + "=" * (-len(key) % 8))
        body, crc = raw[:-2], raw[-2:]
        assert nkeys.crc16_checksum(body) == crc, "bad crc"
        return body[1:]

    our_seed, our_public, message_hex, our_signature_hex = sys.argv[1:5]
    message = bytes.fromhex(message_hex)
    # Python derives the same public key from our seed...
    assert nkeys.from_seed(bytearray(our_seed.encode())).public_key.decode() == our_public, "public key differs"
    # ...and verifies our signature with plain ed25519 over the decoded public key.
    nacl.signing.VerifyKey(raw_public(our_public)).verify(message, bytes.fromhex(our_signature_hex))
    print("verified")
    # Now Python signs with a fresh key for Swift to verify.
    theirs = nkeys.from_seed(bytearray(nkeys.encode_seed(os.urandom(32), nkeys.PREFIX_BYTE_ACCOUNT)))
    print(theirs.seed.decode())
    print(theirs.public_key.decode())
    print(theirs.sign(message).hex())
    """#

    @Test func pythonVerifiesOurSignaturesAndWeVerifyTheirs() async throws {
        let ours = KeyPair.generate(.user)
        let message = Array("nonce-\(UUID().uuidString)".utf8)
        let signature = ours.sign(message)
        let result = try await Python.run(Self.script, arguments: [ours.seed, ours.publicKey, message.hex, signature.hex])
        try #require(result.exitCode == 0, "python failed: \(result.stderr)")

        let lines = result.stdout.split(separator: "\n").map(String.init)
        try #require(lines.count == 4, "unexpected output: \(result.stdout)")
        #expect(lines[0] == "verified")
        let (theirSeed, theirPublic, theirSignature) = (lines[1], lines[2], [UInt8](hex: lines[3]))
        #expect(try KeyPair(seed: theirSeed).publicKey == theirPublic)
        #expect(try KeyPair.verify(publicKey: theirPublic, signature: theirSignature, for: message))
        #expect(try !KeyPair.verify(publicKey: theirPublic, signature: theirSignature, for: message + [0]))
        #expect(try !KeyPair.verify(publicKey: ours.publicKey, signature: theirSignature, for: message))
    }

    @Test func pythonRecomputesTheJTIOfOurJWT() async throws {
        let account = KeyPair.generate(.account)
        let user = KeyPair.generate(.user)
        let token = try JWT.encode(claims: UserClaims(subject: user.publicKey, name: "py <check> & co", nats: UserPayload()), signer: account)
        // Go's ClaimsData serialization (HTML-safe escapes, jti omitted), hashed with hashlib.
        let script = #"""
        import base64, hashlib, json, sys
        token = sys.argv[1]
        body = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        std = {k: claims[k] for k in ("aud", "exp", "iat", "iss", "name", "nbf", "sub") if claims.get(k)}
        text = json.dumps(std, separators=(",", ":"), ensure_ascii=False)
        text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        digest = hashlib.new("sha512_256", text.encode()).digest()
        print(base64.b32encode(digest).decode().rstrip("="), claims["jti"])
        """#
        let result = try await Python.run(script, arguments: [token])
        try #require(result.exitCode == 0, "python failed: \(result.stderr)")
        let fields = result.stdout.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        try #require(fields.count == 2)
        #expect(fields[0] == fields[1])
        #expect(try JWT.decode(token, as: UserClaims.self).id == fields[0])
    }
}
