import Foundation
import Testing
import NKeys
import NATSTestSupport

/// Live interop for generic-claims JWTs: Python checks our token (ed25519 signature, `jti`
/// recomputed, payload bytes equal to its own Go-style serialization); we verify a token Python signs.
@Suite struct JWTGenericPythonInteropTests {
    static let script = #"""
    import base64, hashlib, json, os, sys, time
    import nacl.signing, nkeys

    def unb64(part):
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))

    def b64(raw):
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def go_json(obj, sort_keys=False):
        text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False, sort_keys=sort_keys)
        return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")

    STANDARD = ("aud", "exp", "jti", "iat", "iss", "name", "nbf", "sub")

    def payload(claims):
        ordered = {k: claims[k] for k in STANDARD if claims.get(k)}
        return go_json(ordered)[:-1] + ',"nats":' + go_json(claims["nats"], sort_keys=True) + "}"

    def jti(claims):
        std = {k: claims[k] for k in STANDARD if k != "jti" and claims.get(k)}
        return base64.b32encode(hashlib.new("sha512_256", go_json(std).encode()).digest()).decode().rstrip("=")

    token = sys.argv[1]
    header, body, signature = token.split(".")
    assert unb64(header) == b'{"typ":"JWT","alg":"ed25519-nkey"}', "header"
    claims = json.loads(unb64(body))
    iss = claims["iss"]
    raw = base64.b32decode(iss + "=" * (-len(iss) % 8))
    assert nkeys.crc16_checksum(raw[:-2]) == raw[-2:] and iss.startswith("A"), "issuer"
    nacl.signing.VerifyKey(raw[1:-2]).verify((header + "." + body).encode(), unb64(signature))
    assert claims["jti"] == jti(claims), "jti"
    assert claims["nats"]["version"] == 2, "version"
    assert unb64(body).decode() == payload(claims), "payload bytes differ from Go's serialization"
    print("verified", claims["nats"]["hash"], claims["nats"]["name"])

    # A token of Python's own, valid for an hour from its iat.
    kp = nkeys.from_seed(bytearray(nkeys.encode_seed(os.urandom(32), nkeys.PREFIX_BYTE_ACCOUNT)))
    iat = int(time.time())
    mine = {"exp": iat + 3600, "iat": iat, "iss": kp.public_key.decode(), "sub": "stop-" + os.urandom(4).hex(),
            "nats": {"version": 2, "trigger_subjects": ["a.>", "b.*"]}}
    mine["jti"] = jti(mine)
    signing_input = b64(b'{"typ":"JWT","alg":"ed25519-nkey"}') + "." + b64(payload(mine).encode())
    print(signing_input + "." + b64(kp.sign(signing_input.encode())))
    print(mine["iss"], mine["sub"], mine["jti"], iat)
    """#

    @Test func pythonVerifiesOurTokenAndWeVerifyTheirs() async throws {
        let account = KeyPair.generate(.account)
        let name = "echo_<\(UInt32.random(in: 0...9999))>&"
        let hash = String(repeating: "0f", count: 32)
        let ours = try JWT.encode(generic: .nexWorkload(requestID: UUID().uuidString.lowercased(), workloadName: name, hash: hash), signer: account)

        let result = try await Python.run(Self.script, arguments: [ours])
        try #require(result.exitCode == 0, "python failed: \(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        try #require(lines.count == 3, "unexpected output: \(result.stdout)")
        #expect(lines[0] == "verified \(hash) \(name)")

        let theirs = lines[1]
        let expected = lines[2].split(separator: " ").map(String.init)
        try #require(expected.count == 4)
        let issuedAt = try #require(Int64(expected[3]))
        // Time is injected: valid at its iat, expired an hour and a second later.
        let claims = try JWT.verifyGeneric(theirs, now: Date(timeIntervalSince1970: TimeInterval(issuedAt)))
        #expect(claims.issuer == expected[0])
        #expect(claims.subject == expected[1])
        #expect(claims.id == expected[2])
        #expect(claims.computedID == expected[2])
        #expect(claims.data["trigger_subjects"]?.stringArrayValue == ["a.>", "b.*"])
        #expect(throws: JWTError.self) {
            try claims.validate(at: Date(timeIntervalSince1970: TimeInterval(issuedAt + 3601)))
        }
    }
}
