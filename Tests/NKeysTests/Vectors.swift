import Foundation
import Testing

/// The golden vectors of `GoldenVectors.swift`, decoded.
struct Vectors: Decodable {
    struct Signature: Decodable {
        var messageHex: String
        var signatureHex: String
    }
    struct Key: Decodable {
        var role: String
        var rawSeedHex: String
        var seed: String
        var publicKey: String
        var privateKey: String
        var signatures: [Signature]
    }
    struct CurveKey: Decodable {
        var rawSeedHex: String
        var seed: String
        var publicKey: String
    }
    struct Invalid: Decodable, CustomTestStringConvertible {
        var kind: String
        var input: String
        var code: String
        var why: String
        var testDescription: String { "\(kind): \(why)" }
    }
    struct CRC: Decodable {
        var bytesHex: String
        var crc: UInt16
    }
    struct Digest: Decodable {
        var messageHex: String
        var digestHex: String
    }
    struct B64: Decodable {
        var bytesHex: String
        var encoded: String
    }
    struct UserJWT: Decodable {
        var token: String
        var jti: String
        var issuer: String
        var subject: String
        var name: String
        var iat: Int64
    }

    var crc16: [CRC]
    var keys: [Key]
    var curveKeys: [CurveKey]
    var invalid: [Invalid]
    var sha512_256: [Digest]
    var base64url: [B64]
    var userJWT: UserJWT

    static let shared: Vectors = {
        do {
            return try JSONDecoder().decode(Vectors.self, from: Data(goldenVectorsJSON.utf8))
        } catch {
            fatalError("GoldenVectors.swift does not decode: \(error)")
        }
    }()
}

extension Array where Element == UInt8 {
    init(hex: String) {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            bytes.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        self = bytes
    }

    var hex: String { map { String(format: "%02x", $0) }.joined() }
}
