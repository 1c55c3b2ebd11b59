import NexAPI
import Testing

@Suite("Typed identifiers")
struct IdentifierTests {
    @Test("valid namespaces", arguments: ["default", "system", "acme", "ACME-prod_1", "ns$1", "ünïcode", "a"])
    func validNamespace(text: String) throws {
        #expect(try Namespace(text).rawValue == text)
        #expect(Namespace(validating: text) != nil)
    }

    @Test("invalid namespaces", arguments: ["", "a.b", "*", ">", "a*", "has space", "tab\t", "new\nline", ".", "a.", "\u{7f}"])
    func invalidNamespace(text: String) {
        #expect(throws: NexAPIError.self) { try Namespace(text) }
        #expect(Namespace(validating: text) == nil)
    }

    @Test("default and reserved namespaces")
    func wellKnownNamespaces() throws {
        #expect(Namespace.default.rawValue == "default")
        #expect(Namespace.system.rawValue == "system")
        #expect(Namespace.system.isReserved)
        #expect(!Namespace.default.isReserved)
        #expect(try Namespace("system") == .system)
    }

    @Test("valid workload names (0.x: ^[a-zA-Z0-9_-]+$)", arguments: ["echoservice", "Echo_Service-2", "_", "-", "0", "ABCxyz789"])
    func validName(text: String) throws {
        #expect(try WorkloadName(text).rawValue == text)
    }

    @Test("invalid workload names", arguments: ["", "echo.service", "echo service", "echo*", "echo>", "ünï", "a/b", "a:b", "a$"])
    func invalidName(text: String) {
        do {
            _ = try WorkloadName(text)
            Issue.record("\"\(text)\" must be rejected")
        } catch {
            #expect(error.code == .invalidIdentifier)
            #expect(error.message.hasPrefix(WorkloadName.invalidNameMessage))
        }
    }

    @Test("node IDs must be server public nkeys")
    func nodeIDs() throws {
        #expect(try NodeID(Fixtures.nodeKey).rawValue == Fixtures.nodeKey)
        #expect(try NodeID(Fixtures.otherNodeKey) != NodeID(Fixtures.nodeKey))
        for bad in ["", "N", "NODE1", "UAB2CB576PHBBPQ5ODORRZ2LYCMWPZGWGCN2KDK7DXOIMZASKUY3RSWB",
                    "SNAAAAICAMCAKBQHBAEQUCYMBUHA6EARCIJRIFIWC4MBSGQ3DQOR4H2D5U", Fixtures.nodeKey.lowercased()] {
            #expect(NodeID(validating: bad) == nil, "\(bad)")
        }
    }

    @Test("workload IDs are single tokens; random ones are lower-case UUIDv4")
    func workloadIDs() throws {
        #expect(try WorkloadID("vm1234").rawValue == "vm1234")
        #expect(throws: NexAPIError.self) { try WorkloadID("a.b") }
        #expect(throws: NexAPIError.self) { try WorkloadID("") }
        let random = WorkloadID.random()
        #expect(random.rawValue.count == 36)
        #expect(random.rawValue == random.rawValue.lowercased())
        #expect(Array(random.rawValue)[14] == "4")
        #expect(random != WorkloadID.random())
    }

    @Test("workload references match an ID or a name")
    func references() throws {
        let id = try WorkloadID("w1"), name = try WorkloadName("echo")
        #expect(WorkloadReference(id).matches(id: id, name: name))
        #expect(WorkloadReference(name).matches(id: id, name: name))
        #expect(!(try WorkloadReference("other")).matches(id: id, name: name))
        #expect(throws: NexAPIError.self) { try WorkloadReference("a.b") }
    }

    @Test("workload types")
    func workloadTypes() {
        #expect(WorkloadType.elf.canonical == .native)
        #expect(WorkloadType.v8.isFunction && WorkloadType.wasm.isFunction)
        #expect(!WorkloadType.native.isFunction && !WorkloadType.oci.isFunction)
        #expect(WorkloadType("myplugin").rawValue == "myplugin")
    }

    @Test("identifiers decode from JSON strings and reject invalid ones")
    func codable() throws {
        #expect(try NexJSON.decode(Namespace.self, from: Array(#""acme""#.utf8)).rawValue == "acme")
        #expect(throws: NexAPIError.self) { try NexJSON.decode(Namespace.self, from: Array(#""a.b""#.utf8)) }
        #expect(throws: NexAPIError.self) { try NexJSON.decode(NodeID.self, from: Array(#""NOPE""#.utf8)) }
        #expect(try encodeText(Fixtures.node) == "\"\(Fixtures.nodeKey)\"")
    }
}
