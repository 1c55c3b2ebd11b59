import NIOCore

/// NATS message headers: an ordered multi-map plus the optional status line.
///
/// Names are case-sensitive (as nats.go treats them today) and a name may carry several values, kept in the
/// order they were added or received. The status (`NATS/1.0 503 No Responders`) is how the server signals
/// no-responders, request timeouts and JetStream flow-control; it is not a header field.
public struct NATSHeaders: Sendable, Hashable, Sequence {
    /// One header field, as iterated.
    public typealias Element = (name: String, value: String)

    struct Field: Sendable, Hashable {
        var name: String
        var value: String
    }

    var fields: [Field]

    /// The status code from the first line of the block, e.g. 503 for no responders.
    public var status: Int?
    /// The text after the status code, e.g. "No Responders"; `nil` when the server sent only the code.
    public var statusDescription: String?

    /// Creates an empty header set with no status.
    public init() {
        self.fields = []
        self.status = nil
        self.statusDescription = nil
    }

    /// The first value for `name`. Setting replaces every value for `name` (at the position of the first one);
    /// setting `nil` removes them all.
    public subscript(name: String) -> String? {
        get {
            for field in self.fields where field.name == name {
                return field.value
            }
            return nil
        }
        set {
            guard let newValue else {
                self.removeAll(named: name)
                return
            }
            if let first = self.fields.firstIndex(where: { $0.name == name }) {
                self.fields[first].value = newValue
                var index = first + 1
                while index < self.fields.count {
                    if self.fields[index].name == name {
                        self.fields.remove(at: index)
                    } else {
                        index += 1
                    }
                }
            } else {
                self.fields.append(Field(name: name, value: newValue))
            }
        }
    }

    /// Every value for `name`, in order.
    public func values(for name: String) -> [String] {
        self.fields.compactMap { $0.name == name ? $0.value : nil }
    }

    /// Adds a value for `name` after any existing ones.
    public mutating func append(_ value: String, for name: String) {
        self.fields.append(Field(name: name, value: value))
    }

    /// Removes every value for `name`.
    public mutating func removeAll(named name: String) {
        self.fields.removeAll { $0.name == name }
    }

    /// True when there are no fields and no status, i.e. nothing worth sending as HPUB.
    public var isEmpty: Bool {
        self.fields.isEmpty && self.status == nil
    }

    /// The number of fields (a repeated name counts once per value).
    public var count: Int {
        self.fields.count
    }

    public func makeIterator() -> Iterator {
        Iterator(base: self.fields.makeIterator())
    }

    /// Iterates fields in order.
    public struct Iterator: IteratorProtocol {
        var base: IndexingIterator<[Field]>

        public mutating func next() -> Element? {
            guard let field = self.base.next() else {
                return nil
            }
            return (name: field.name, value: field.value)
        }
    }
}

extension NATSHeaders: CustomStringConvertible {
    public var description: String {
        var parts: [String] = []
        if let status = self.status {
            parts.append(self.statusDescription.map { "\(status) \($0)" } ?? "\(status)")
        }
        for field in self.fields {
            parts.append("\(field.name): \(field.value)")
        }
        return "NATSHeaders(" + parts.joined(separator: ", ") + ")"
    }
}
