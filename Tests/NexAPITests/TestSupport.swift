import Foundation
import NexAPI
import Testing

/// Fixed server nkeys (made with the Python `nkeys` package from raw seeds 0…31 and 1…32), so golden
/// subjects and JSON stay byte-stable.
enum Fixtures {
    static let nodeKey = "NAB2CB576PHBBPQ5ODORRZ2LYCMWPZGWGCN2KDK7DXOIMZASKUY3RSWB"
    static let otherNodeKey = "NB43KVROR7TFJ6KAPCYRF2FJROTZAH4FHLTJLPWX4DRZCC5NASLGJYZP"
    static var node: NodeID { try! NodeID(nodeKey) }
}

/// Decodes `json` as `T`, re-encodes it with ``NexJSON`` and returns the text; goldens compare bytes.
func reencode<T: Codable>(_ json: String, as type: T.Type) throws -> String {
    let value = try NexJSON.decode(T.self, from: Array(json.utf8))
    return String(decoding: try NexJSON.encode(value), as: UTF8.self)
}

func encodeText(_ value: some Encodable) throws -> String {
    String(decoding: try NexJSON.encode(value), as: UTF8.self)
}

/// Parses JSON into Foundation objects, for comparisons where member order is not part of the contract.
func jsonObject(_ text: String) throws -> NSDictionary {
    try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? NSDictionary)
}
