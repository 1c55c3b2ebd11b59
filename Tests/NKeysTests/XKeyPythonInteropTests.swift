import Foundation
import Testing
import NKeys
import NATSTestSupport

/// Live interop with PyNaCl (libsodium through Python): it opens what we seal, we open what it seals.
@Suite struct XKeyPythonInteropTests {
    static let script = #"""
    import base64, os, sys
    import nacl.public, nkeys

    def raw(key, skip):
        data = base64.b32decode(key + "=" * (-len(key) % 8))
        body, crc = data[:-2], data[-2:]
        assert nkeys.crc16_checksum(body) == crc, "bad crc"
        return body[skip:]

    def encode_public(public):
        body = bytes([23 << 3]) + public
        return base64.b32encode(body + nkeys.crc16_checksum(body)).decode().rstrip("=")

    recipient_seed, sender_public, sealed_b64 = sys.argv[1:4]
    sealed = base64.b64decode(sealed_b64, validate=True)
    assert sealed[:4] == b"xkv1", "version"
    mine = nacl.public.PrivateKey(raw(recipient_seed, 2))
    print(nacl.public.Box(mine, nacl.public.PublicKey(raw(sender_public, 1))).decrypt(sealed[4:]).hex())
    # Now Python seals to the Swift sender key with a fresh key of its own.
    theirs = nacl.public.PrivateKey.generate()
    message = b'{"FROM":"python","N":"' + os.urandom(8).hex().encode() + b'"}'
    box = nacl.public.Box(theirs, nacl.public.PublicKey(raw(sender_public, 1)))
    print(encode_public(bytes(theirs.public_key)))
    print(message.hex())
    print(base64.b64encode(b"xkv1" + bytes(box.encrypt(message))).decode())
    """#

    @Test func pyNaClOpensWhatWeSealAndWeOpenWhatItSeals() async throws {
        let sender = CurveKeyPair.generate()
        let recipient = CurveKeyPair.generate()
        let message = Array(#"{"API_KEY":"s3cr3t","NONCE":"\#(UUID().uuidString)"}"#.utf8)
        let sealed = try sender.sealBase64(message, to: recipient.publicKey)

        let result = try await Python.run(Self.script, arguments: [recipient.seed, sender.publicKey, sealed])
        try #require(result.exitCode == 0, "python failed: \(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        try #require(lines.count == 4, "unexpected output: \(result.stdout)")
        #expect(lines[0] == message.hex)

        let (theirPublic, theirMessage, theirSealed) = (lines[1], [UInt8](hex: lines[2]), lines[3])
        #expect(try sender.openBase64(theirSealed, from: theirPublic) == theirMessage)
        // Only the intended recipient can open it.
        #expect(throws: XKeyError.self) { try recipient.openBase64(theirSealed, from: theirPublic) }
    }
}
