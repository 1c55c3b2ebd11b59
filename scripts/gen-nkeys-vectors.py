#!/usr/bin/env python3
"""Golden vectors for Tests/NKeysTests, produced by independent implementations:
the PyPI `nkeys` package (seeds, public/private keys, ed25519 signatures), PyNaCl (curve keys),
and hashlib / base64 / json from the Python standard library (SHA-512/256, base64url, a JWT).

Usage:
    scripts/gen-nkeys-vectors.py            # print JSON
    scripts/gen-nkeys-vectors.py --swift > Tests/NKeysTests/GoldenVectors.swift
"""
import base64
import hashlib
import json
import sys

import nacl.public
import nkeys

ROLES = {
    "user": nkeys.PREFIX_BYTE_USER,
    "account": nkeys.PREFIX_BYTE_ACCOUNT,
    "operator": nkeys.PREFIX_BYTE_OPERATOR,
    "server": nkeys.PREFIX_BYTE_SERVER,
    "cluster": nkeys.PREFIX_BYTE_CLUSTER,
}
PREFIX_BYTE_CURVE = 23 << 3  # not supported by nkeys 0.2.x; framed by hand below

MESSAGES = [b"", b"hello nats", bytes(range(256))]


def raw_seed(label):
    # Deterministic seeds so regenerating yields the same file.
    return hashlib.sha256(("swift-nex nkeys vector " + label).encode()).digest()


def b32(raw):
    return base64.b32encode(raw).decode().rstrip("=")


def framed(prefix_bytes, payload):
    body = bytes(prefix_bytes) + payload
    return b32(body + nkeys.crc16_checksum(body))


def b64url(raw):
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def go_json(obj):
    # Go's encoding/json for the string/int-only ClaimsData (no spaces, HTML-safe escapes).
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def keys():
    out = []
    for role, prefix in ROLES.items():
        seed = nkeys.encode_seed(raw_seed(role), prefix).decode()
        kp = nkeys.from_seed(bytearray(seed.encode()))
        out.append({
            "role": role,
            "rawSeedHex": raw_seed(role).hex(),
            "seed": seed,
            "publicKey": kp.public_key.decode(),
            "privateKey": kp.private_key.decode(),
            "signatures": [
                {"messageHex": m.hex(), "signatureHex": kp.sign(m).hex()} for m in MESSAGES
            ],
        })
    return out


def curve_keys():
    raw = raw_seed("curve")
    public = bytes(nacl.public.PrivateKey(raw).public_key)
    seed_prefix = [nkeys.PREFIX_BYTE_SEED | PREFIX_BYTE_CURVE >> 5, (PREFIX_BYTE_CURVE & 31) << 3]
    return [{
        "rawSeedHex": raw.hex(),
        "seed": framed(seed_prefix, raw),
        "publicKey": framed([PREFIX_BYTE_CURVE], public),
    }]


def invalid(good):
    user = next(k for k in good if k["role"] == "user")
    pub, seed = user["publicKey"], user["seed"]
    flip = lambda s, i: s[:i] + ("B" if s[i] != "B" else "C") + s[i + 1:]
    unknown_role = framed([1 << 3], bytes(32))  # 'B…': valid framing, no such role
    unknown_seed_role = framed([nkeys.PREFIX_BYTE_SEED | (1 << 3) >> 5, ((1 << 3) & 31) << 3], bytes(32))
    return [
        {"kind": "publicKey", "input": flip(pub, 10), "code": "invalidChecksum", "why": "one character changed"},
        {"kind": "publicKey", "input": pub[:-1], "code": "invalidChecksum", "why": "truncated by one character"},
        {"kind": "publicKey", "input": pub[:-2], "code": "invalidEncoding", "why": "54 characters cannot be whole bytes"},
        {"kind": "publicKey", "input": pub[:-8], "code": "invalidChecksum", "why": "truncated by eight characters"},
        {"kind": "publicKey", "input": pub[:20] + "1" + pub[21:], "code": "invalidEncoding", "why": "'1' is not base32"},
        {"kind": "publicKey", "input": pub.lower(), "code": "invalidEncoding", "why": "lower case"},
        {"kind": "publicKey", "input": seed, "code": "invalidPublicKey", "why": "a seed is not a public key"},
        {"kind": "publicKey", "input": unknown_role, "code": "invalidPrefix", "why": "unknown role byte"},
        {"kind": "publicKey", "input": user["privateKey"], "code": "invalidPrefix", "why": "private key is not a public key"},
        {"kind": "publicKey", "input": "", "code": "invalidEncoding", "why": "empty"},
        {"kind": "seed", "input": pub, "code": "invalidSeed", "why": "a public key is not a seed"},
        {"kind": "seed", "input": flip(seed, 30), "code": "invalidChecksum", "why": "one character changed"},
        {"kind": "seed", "input": seed[:-2], "code": "invalidChecksum", "why": "truncated by two characters"},
        {"kind": "seed", "input": seed[:40] + "8" + seed[41:], "code": "invalidEncoding", "why": "'8' is not base32"},
        {"kind": "seed", "input": unknown_seed_role, "code": "invalidPrefix", "why": "seed with unknown role"},
    ]


def sha512_256():
    inputs = [b"", b"abc", b"a" * 1000]
    for n in (111, 112, 127, 128, 129, 239, 240, 256, 1025):
        inputs.append(bytes((i * 7 + 3) % 256 for i in range(n)))
    return [{"messageHex": m.hex(), "digestHex": hashlib.new("sha512_256", m).hexdigest()} for m in inputs]


def base64url():
    inputs = [b"", b"f", b"fo", b"foo", b"foob", b"fooba", b"foobar", bytes([0xfb, 0xff, 0xbf]), bytes(range(64))]
    return [{"bytesHex": m.hex(), "encoded": b64url(m)} for m in inputs]


def user_jwt(good):
    """A user JWT signed by the account vector key, built with the stdlib and nkeys."""
    account = nkeys.from_seed(bytearray(next(k for k in good if k["role"] == "account")["seed"].encode()))
    user_pub = next(k for k in good if k["role"] == "user")["publicKey"]
    std = {"iat": 1700000000, "iss": account.public_key.decode(), "name": "vector <&> user", "sub": user_pub}
    jti = b32(hashlib.new("sha512_256", go_json(std).encode()).digest())
    claims = {"jti": jti, **std, "nats": {
        "pub": {"allow": ["foo.>"]}, "sub": {"deny": ["secret"]},
        "subs": -1, "data": -1, "payload": -1, "type": "user", "version": 2}}
    header = b64url(json.dumps({"typ": "JWT", "alg": "ed25519-nkey"}, separators=(",", ":")).encode())
    body = b64url(json.dumps(claims, separators=(",", ":")).encode())
    signature = b64url(account.sign((header + "." + body).encode()))
    return {"token": header + "." + body + "." + signature, "jti": jti, "issuer": std["iss"],
            "subject": user_pub, "name": std["name"], "iat": std["iat"]}


def main():
    good = keys()
    vectors = {
        "generator": "scripts/gen-nkeys-vectors.py (nkeys %s)" % getattr(nkeys, "__version__", "0.2"),
        "crc16": [{"bytesHex": b"123456789".hex(), "crc": nkeys.crc16(b"123456789")}],
        "keys": good,
        "curveKeys": curve_keys(),
        "invalid": invalid(good),
        "sha512_256": sha512_256(),
        "base64url": base64url(),
        "userJWT": user_jwt(good),
    }
    text = json.dumps(vectors, indent=1)
    if "--swift" in sys.argv:
        print("// Generated by scripts/gen-nkeys-vectors.py --swift; do not edit.")
        print("// Produced by the Python nkeys, PyNaCl and hashlib implementations, not by our code.")
        print("")
        print("let goldenVectorsJSON = #\"\"\"")
        print(text)
        print("\"\"\"#")
    else:
        print(text)


if __name__ == "__main__":
    main()
