#!/usr/bin/env python3
"""Golden vectors for xkeys (sealed boxes) and NATS generic-claims JWTs, produced by independent
implementations: PyNaCl (libsodium's NaCl box through its low-level Box.encrypt with a fixed
nonce), the PyPI `nkeys` package (ed25519 signatures), and hashlib / base64 / json.

The JWTs are assembled here the way nats-io/jwt v2 `GenericClaims.Encode` does: header
{"typ":"JWT","alg":"ed25519-nkey"}, ClaimsData fields in Go's order, `nats` map with sorted keys
and "version": 2, jti = base32(SHA-512/256(ClaimsData JSON without jti)), ed25519 over
"<b64url header>.<b64url payload>".

Usage:
    scripts/gen-xkeys-vectors.py            # print JSON
    scripts/gen-xkeys-vectors.py --write    # regenerate Tests/NKeysTests/{XKey,JWTGeneric}GoldenVectorsTests.swift
"""
import base64
import hashlib
import json
import os
import sys

import nacl.public
import nkeys

PREFIX_BYTE_CURVE = 23 << 3  # nkeys 0.2.x has no curve keys; framed by hand


def raw_seed(label):
    # Deterministic inputs so regenerating yields the same files.
    return hashlib.sha256(("swift-nex xkeys vector " + label).encode()).digest()


def b32(raw):
    return base64.b32encode(raw).decode().rstrip("=")


def framed(prefix_bytes, payload):
    body = bytes(prefix_bytes) + payload
    return b32(body + nkeys.crc16_checksum(body))


def curve_key(label):
    raw = raw_seed(label)
    public = bytes(nacl.public.PrivateKey(raw).public_key)
    seed_prefix = [nkeys.PREFIX_BYTE_SEED | PREFIX_BYTE_CURVE >> 5, (PREFIX_BYTE_CURVE & 31) << 3]
    return raw, public, framed(seed_prefix, raw), framed([PREFIX_BYTE_CURVE], public)


def b64url(raw):
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def go_json(obj, sort_keys=False):
    # Go's encoding/json: no spaces, HTML-safe escapes; maps sorted by key.
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False, sort_keys=sort_keys)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


# --- xkeys -------------------------------------------------------------------------------------

MESSAGES = [
    b"",
    b"hello nex",
    # What Nex 0.x seals: json.Marshal(map[string]string), keys sorted.
    go_json({"API_KEY": "s3cr3t", "EMPTY": "", "URL": "nats://a<b>&c"}, sort_keys=True).encode(),
    bytes(range(256)) * 4,
]


def xkeys():
    s_raw, s_pub, s_seed, s_public = curve_key("sender")
    r_raw, r_pub, r_seed, r_public = curve_key("recipient")
    box = nacl.public.Box(nacl.public.PrivateKey(s_raw), nacl.public.PublicKey(r_pub))
    back = nacl.public.Box(nacl.public.PrivateKey(r_raw), nacl.public.PublicKey(s_pub))
    boxes = []
    for i, message in enumerate(MESSAGES):
        nonce = hashlib.sha256(b"swift-nex xkeys nonce %d" % i).digest()[:24]
        encrypted = box.encrypt(message, nonce)  # nonce || tag || ciphertext
        assert bytes(encrypted.nonce) == nonce
        sealed = b"xkv1" + bytes(encrypted)
        assert back.decrypt(sealed[4:]) == message
        boxes.append({
            "messageHex": message.hex(),
            "nonceHex": nonce.hex(),
            "sealedHex": sealed.hex(),
            "sealedBase64": base64.b64encode(sealed).decode(),  # Go base64.StdEncoding, as Nex 0.x
        })
    return {
        "sender": {"rawSeedHex": s_raw.hex(), "seed": s_seed, "publicKey": s_public},
        "recipient": {"rawSeedHex": r_raw.hex(), "seed": r_seed, "publicKey": r_public},
        "boxes": boxes,
    }


# --- generic-claims JWTs -----------------------------------------------------------------------

IAT = 1717171717
HEADER = '{"typ":"JWT","alg":"ed25519-nkey"}'
STANDARD = ("aud", "exp", "jti", "iat", "iss", "name", "nbf", "sub")


def signer(label, prefix):
    return nkeys.from_seed(bytearray(nkeys.encode_seed(raw_seed(label), prefix)))


def make_jwt(kp, sub, data, iat=IAT, name="", aud="", exp=0, nbf=0):
    claims = {"aud": aud, "exp": exp, "jti": "", "iat": iat, "iss": kp.public_key.decode(),
              "name": name, "nbf": nbf, "sub": sub}
    standard = {k: claims[k] for k in STANDARD if claims[k]}
    jti = b32(hashlib.new("sha512_256", go_json(standard).encode()).digest())
    claims["jti"] = jti
    payload = {k: claims[k] for k in STANDARD if claims[k]}
    nats = dict(data, version=2)
    text = go_json(payload)[:-1] + ',"nats":' + go_json(nats, sort_keys=True) + "}"
    signing_input = b64url(HEADER.encode()) + "." + b64url(text.encode())
    return signing_input + "." + b64url(kp.sign(signing_input.encode())), jti


def jwt_case(label, kp, seed_kind, sub, data, checks, **standard):
    token, jti = make_jwt(kp, sub, data, **standard)
    return {
        "label": label,
        "signerSeed": kp.seed.decode(),
        "signerRole": seed_kind,
        "issuer": kp.public_key.decode(),
        "subject": sub,
        "name": standard.get("name", ""),
        "audience": standard.get("aud", ""),
        "expires": standard.get("exp", 0),
        "notBefore": standard.get("nbf", 0),
        "issuedAt": IAT,
        "dataJSON": go_json(data, sort_keys=True),
        "jti": jti,
        "token": token,
        "checks": [{"now": now, "code": code} for now, code in checks],
    }


def jwts():
    account = signer("jwt account", nkeys.PREFIX_BYTE_ACCOUNT)
    operator = signer("jwt operator", nkeys.PREFIX_BYTE_OPERATOR)
    user = signer("jwt user", nkeys.PREFIX_BYTE_USER)
    artifact_hash = hashlib.sha256(b"echoservice artifact bytes").hexdigest()
    good = [
        jwt_case("nex workload JWT", account, "account", "9b0e7a52-1c3d-4e5f-8a6b-7c8d9e0f1a2b",
                 {"hash": artifact_hash, "name": "echoservice"},
                 [(IAT, None), (IAT + 10 * 365 * 86400, None)]),
        jwt_case("nex stop JWT", account, "account", "cp8tq2hdk2fsc8m0ikc0", {}, [(IAT, None)]),
        jwt_case("operator-signed, time window, nested data", operator, "operator", "workload-42",
                 {"trigger_subjects": ["echo.>", "calc.*"], "limits": {"cpu": 2, "burst": True, "note": None},
                  "workload_type": "v8"},
                 [(IAT, None), (IAT + 3600, None), (IAT + 3601, "expired"), (IAT - 60, None), (IAT - 61, "notYetValid")],
                 name="times <&> name", aud="nex", exp=IAT + 3600, nbf=IAT - 60),
    ]
    user_token, _ = make_jwt(user, "some-request", {"hash": artifact_hash, "name": "x"})
    workload = good[0]["token"]
    header, payload, signature = workload.split(".")
    forged_claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    forged_claims["nats"]["hash"] = "0" * 64
    forged = header + "." + b64url(json.dumps(forged_claims, separators=(",", ":")).encode()) + "." + signature
    other_sig, _ = make_jwt(operator, "9b0e7a52-1c3d-4e5f-8a6b-7c8d9e0f1a2b", {"hash": artifact_hash, "name": "echoservice"})
    hs_header = b64url(b'{"typ":"JWT","alg":"HS256"}')
    bad = [
        {"why": "signed by a user key", "token": user_token, "code": "issuerNotAllowed"},
        {"why": "payload altered after signing", "token": forged, "code": "invalidSignature"},
        {"why": "signature of another token", "token": header + "." + payload + "." + other_sig.split(".")[2], "code": "invalidSignature"},
        {"why": "HS256 header", "token": hs_header + "." + payload + "." + signature, "code": "malformed"},
        {"why": "two parts", "token": header + "." + payload, "code": "malformed"},
        {"why": "payload is not JSON", "token": header + "." + b64url(b"not json") + "." + signature, "code": "malformed"},
        {"why": "padded base64", "token": header + "." + payload + "==." + signature, "code": "malformed"},
    ]
    return {"good": good, "bad": bad}


def swift_file(constant, generated, comment):
    text = json.dumps(generated, indent=1)
    assert '"""#' not in text
    return (f"// Generated by scripts/gen-xkeys-vectors.py --write; do not edit.\n"
            f"// {comment}\n\n"
            f'let {constant} = #"""\n{text}\n"""#\n')


def main():
    data = {"generator": "scripts/gen-xkeys-vectors.py (pynacl %s, nkeys %s)" % (nacl.__version__, getattr(nkeys, "__version__", "?")),
            "xkeys": xkeys(), "jwts": jwts()}
    if "--write" in sys.argv:
        root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "NKeysTests")
        with open(os.path.join(root, "XKeyGoldenVectorsTests.swift"), "w") as f:
            f.write(swift_file("xkeyGoldenVectorsJSON", dict(generator=data["generator"], **data["xkeys"]),
                               "NaCl boxes sealed by PyNaCl (libsodium) with fixed nonces, not by our code."))
        with open(os.path.join(root, "JWTGenericGoldenVectorsTests.swift"), "w") as f:
            f.write(swift_file("jwtGenericGoldenVectorsJSON", dict(generator=data["generator"], **data["jwts"]),
                               "Generic-claims JWTs built and signed by Python (nkeys), not by our code."))
    else:
        print(json.dumps(data, indent=1))


if __name__ == "__main__":
    main()
