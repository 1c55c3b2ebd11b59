import Foundation

/// Marks string-keyed maps, whose keys Go writes in sorted order (struct fields keep declaration order).
protocol GoJSONSortedKeys {}
extension Dictionary: GoJSONSortedKeys where Key == String {}

/// An `Encoder` that records members in the order `encode(to:)` writes them and serialises the
/// result like Go's `json.Marshal`.
///
/// Wire types write their members in Go's struct-field order and apply Go's `omitempty` rules in
/// their `encode(to:)`; this encoder keeps that order (unlike `JSONEncoder`), sorts map keys the way
/// Go does, and uses Go's string escaping. The same `encode(to:)` still works with `JSONEncoder`.
struct GoJSONEncoder {
    func encode(_ value: some Encodable) throws -> [UInt8] {
        let root = Slot()
        try Self.encode(value, into: root, codingPath: [])
        var out: [UInt8] = []
        out.reserveCapacity(256)
        root.finish().write(into: &out)
        return out
    }

    func encodeValue(_ value: some Encodable) throws -> GoJSONValue {
        let root = Slot()
        try Self.encode(value, into: root, codingPath: [])
        return root.finish()
    }

    static func encode<T: Encodable>(_ value: T, into slot: Slot, codingPath: [any CodingKey]) throws {
        try value.encode(to: Writer(slot: slot, codingPath: codingPath))
        if value is any GoJSONSortedKeys {
            slot.sortKeys = true
        }
    }

    /// One node of the tree being built; containers share it by reference, as `Encoder` requires.
    final class Slot {
        enum Content {
            case empty
            case scalar(GoJSONValue)
            case object(keys: [String], members: [String: Slot])
            case array([Slot])
        }
        var content: Content = .empty
        var sortKeys = false

        func child(forKey key: String) -> Slot {
            let child = Slot()
            switch content {
            case .object(var keys, var members):
                // Drop the enum's references first, so the appends below mutate in place instead of copying
                // (otherwise building an object or array of n members costs O(n²)).
                content = .empty
                // Re-encoding a key replaces the value but keeps its first position, like a struct field.
                if members[key] == nil { keys.append(key) }
                members[key] = child
                content = .object(keys: keys, members: members)
            case .empty, .scalar, .array:
                content = .object(keys: [key], members: [key: child])
            }
            return child
        }

        func becomeObject() {
            if case .object = content { return }
            content = .object(keys: [], members: [:])
        }

        func becomeArray() {
            if case .array = content { return }
            content = .array([])
        }

        func appendElement() -> Slot {
            let child = Slot()
            if case .array(var elements) = content {
                content = .empty // as in `child(forKey:)`: append in place
                elements.append(child)
                content = .array(elements)
            } else {
                content = .array([child])
            }
            return child
        }

        func finish() -> GoJSONValue {
            switch content {
            case .empty: return .object([])
            case .scalar(let value): return value
            case .array(let elements): return .array(elements.map { $0.finish() })
            case .object(let keys, let members):
                // Go sorts map keys by their bytes.
                let ordered = sortKeys ? keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) } : keys
                return .object(ordered.map { ($0, members[$0]!.finish()) })
            }
        }
    }

    static func number<T: BinaryInteger>(_ value: T) -> GoJSONValue { .number(String(value)) }

    static func number(_ value: Double, codingPath: [any CodingKey]) throws -> GoJSONValue {
        guard value.isFinite else {
            // Go refuses these too (`json: unsupported value: NaN`).
            throw EncodingError.invalidValue(value, .init(codingPath: codingPath, debugDescription: "JSON has no NaN or infinity"))
        }
        if value.rounded() == value, abs(value) < 1e21 {
            return .number(String(Int64(value)))
        }
        return .number(String(describing: value))
    }

    struct Writer: Encoder {
        let slot: Slot
        let codingPath: [any CodingKey]
        var userInfo: [CodingUserInfoKey: Any] { [:] }

        func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
            slot.becomeObject()
            return KeyedEncodingContainer(Keyed<Key>(slot: slot, codingPath: codingPath))
        }

        func unkeyedContainer() -> any UnkeyedEncodingContainer {
            slot.becomeArray()
            return Unkeyed(slot: slot, codingPath: codingPath)
        }

        func singleValueContainer() -> any SingleValueEncodingContainer {
            Single(slot: slot, codingPath: codingPath)
        }
    }

    struct Keyed<Key: CodingKey>: KeyedEncodingContainerProtocol {
        let slot: Slot
        let codingPath: [any CodingKey]

        private func put(_ value: GoJSONValue, _ key: Key) { slot.child(forKey: key.stringValue).content = .scalar(value) }

        mutating func encodeNil(forKey key: Key) throws { put(.null, key) }
        mutating func encode(_ value: Bool, forKey key: Key) throws { put(.bool(value), key) }
        mutating func encode(_ value: String, forKey key: Key) throws { put(.string(value), key) }
        mutating func encode(_ value: Double, forKey key: Key) throws { put(try GoJSONEncoder.number(value, codingPath: codingPath + [key]), key) }
        mutating func encode(_ value: Float, forKey key: Key) throws { put(try GoJSONEncoder.number(Double(value), codingPath: codingPath + [key]), key) }
        mutating func encode(_ value: Int, forKey key: Key) throws { put(GoJSONEncoder.number(value), key) }
        mutating func encode(_ value: Int8, forKey key: Key) throws { put(GoJSONEncoder.number(value), key) }
        mutating func encode(_ value: Int16, forKey key: Key) throws { put(GoJSONEncoder.number(value), key) }
        mutating func encode(_ value: Int32, forKey key: Key) throws { put(GoJSONEncoder.number(value), key) }
        mutating func encode(_ value: Int64, forKey key: Key) throws { put(GoJSONEncoder.number(value), key) }
        mutating func encode(_ value: UInt, forKey key: Key) throws { put(GoJSONEncoder.number(value), key) }
        mutating func encode(_ value: UInt8, forKey key: Key) throws { put(GoJSONEncoder.number(value), key) }
        mutating func encode(_ value: UInt16, forKey key: Key) throws { put(GoJSONEncoder.number(value), key) }
        mutating func encode(_ value: UInt32, forKey key: Key) throws { put(GoJSONEncoder.number(value), key) }
        mutating func encode(_ value: UInt64, forKey key: Key) throws { put(GoJSONEncoder.number(value), key) }
        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
            try GoJSONEncoder.encode(value, into: slot.child(forKey: key.stringValue), codingPath: codingPath + [key])
        }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
            let child = slot.child(forKey: key.stringValue)
            child.becomeObject()
            return KeyedEncodingContainer(Keyed<NestedKey>(slot: child, codingPath: codingPath + [key]))
        }

        mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
            let child = slot.child(forKey: key.stringValue)
            child.becomeArray()
            return Unkeyed(slot: child, codingPath: codingPath + [key])
        }

        mutating func superEncoder() -> any Encoder {
            Writer(slot: slot.child(forKey: "super"), codingPath: codingPath)
        }

        mutating func superEncoder(forKey key: Key) -> any Encoder {
            Writer(slot: slot.child(forKey: key.stringValue), codingPath: codingPath + [key])
        }
    }

    struct Unkeyed: UnkeyedEncodingContainer {
        let slot: Slot
        let codingPath: [any CodingKey]
        var count: Int {
            if case .array(let elements) = slot.content { return elements.count }
            return 0
        }

        private func put(_ value: GoJSONValue) { slot.appendElement().content = .scalar(value) }

        mutating func encodeNil() throws { put(.null) }
        mutating func encode(_ value: Bool) throws { put(.bool(value)) }
        mutating func encode(_ value: String) throws { put(.string(value)) }
        mutating func encode(_ value: Double) throws { put(try GoJSONEncoder.number(value, codingPath: codingPath)) }
        mutating func encode(_ value: Float) throws { put(try GoJSONEncoder.number(Double(value), codingPath: codingPath)) }
        mutating func encode(_ value: Int) throws { put(GoJSONEncoder.number(value)) }
        mutating func encode(_ value: Int8) throws { put(GoJSONEncoder.number(value)) }
        mutating func encode(_ value: Int16) throws { put(GoJSONEncoder.number(value)) }
        mutating func encode(_ value: Int32) throws { put(GoJSONEncoder.number(value)) }
        mutating func encode(_ value: Int64) throws { put(GoJSONEncoder.number(value)) }
        mutating func encode(_ value: UInt) throws { put(GoJSONEncoder.number(value)) }
        mutating func encode(_ value: UInt8) throws { put(GoJSONEncoder.number(value)) }
        mutating func encode(_ value: UInt16) throws { put(GoJSONEncoder.number(value)) }
        mutating func encode(_ value: UInt32) throws { put(GoJSONEncoder.number(value)) }
        mutating func encode(_ value: UInt64) throws { put(GoJSONEncoder.number(value)) }
        mutating func encode<T: Encodable>(_ value: T) throws {
            try GoJSONEncoder.encode(value, into: slot.appendElement(), codingPath: codingPath)
        }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
            let child = slot.appendElement()
            child.becomeObject()
            return KeyedEncodingContainer(Keyed<NestedKey>(slot: child, codingPath: codingPath))
        }

        mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
            let child = slot.appendElement()
            child.becomeArray()
            return Unkeyed(slot: child, codingPath: codingPath)
        }

        mutating func superEncoder() -> any Encoder {
            Writer(slot: slot.appendElement(), codingPath: codingPath)
        }
    }

    struct Single: SingleValueEncodingContainer {
        let slot: Slot
        let codingPath: [any CodingKey]

        private func put(_ value: GoJSONValue) { slot.content = .scalar(value) }

        mutating func encodeNil() throws { put(.null) }
        mutating func encode(_ value: Bool) throws { put(.bool(value)) }
        mutating func encode(_ value: String) throws { put(.string(value)) }
        mutating func encode(_ value: Double) throws { put(try GoJSONEncoder.number(value, codingPath: codingPath)) }
        mutating func encode(_ value: Float) throws { put(try GoJSONEncoder.number(Double(value), codingPath: codingPath)) }
        mutating func encode(_ value: Int) throws { put(GoJSONEncoder.number(value)) }
        mutating func encode(_ value: Int8) throws { put(GoJSONEncoder.number(value)) }
        mutating func encode(_ value: Int16) throws { put(GoJSONEncoder.number(value)) }
        mutating func encode(_ value: Int32) throws { put(GoJSONEncoder.number(value)) }
        mutating func encode(_ value: Int64) throws { put(GoJSONEncoder.number(value)) }
        mutating func encode(_ value: UInt) throws { put(GoJSONEncoder.number(value)) }
        mutating func encode(_ value: UInt8) throws { put(GoJSONEncoder.number(value)) }
        mutating func encode(_ value: UInt16) throws { put(GoJSONEncoder.number(value)) }
        mutating func encode(_ value: UInt32) throws { put(GoJSONEncoder.number(value)) }
        mutating func encode(_ value: UInt64) throws { put(GoJSONEncoder.number(value)) }
        mutating func encode<T: Encodable>(_ value: T) throws {
            try GoJSONEncoder.encode(value, into: slot, codingPath: codingPath)
        }
    }
}
