import NexAPI
import Testing

@Suite("NexSubjects: every $NEX subject built and parsed")
struct SubjectTests {
    static let node = Fixtures.node
    static let ns = try! Namespace("acme")

    static let table: [(NexSubject, String)] = [
        (.ping, "$NEX.PING"),
        (.pingNode(node), "$NEX.PING.\(Fixtures.nodeKey)"),
        (.auction, "$NEX.AUCTION"),
        (.workloadPing(ns, nil), "$NEX.WPING.acme"),
        (.workloadPing(ns, try! WorkloadReference("echoservice")), "$NEX.WPING.acme.echoservice"),
        (.workloadPing(.default, WorkloadReference(try! WorkloadID("0f6c6a5e-4a3b-4f6e-8a5d-2b1c0d9e8f7a"))), "$NEX.WPING.default.0f6c6a5e-4a3b-4f6e-8a5d-2b1c0d9e8f7a"),
        (.info(ns, node), "$NEX.INFO.acme.\(Fixtures.nodeKey)"),
        (.deploy(.default, node), "$NEX.DEPLOY.default.\(Fixtures.nodeKey)"),
        (.stop(ns, node), "$NEX.STOP.acme.\(Fixtures.nodeKey)"),
        (.lameDuck(node), "$NEX.LAMEDUCK.\(Fixtures.nodeKey)"),
        (.event(.system, .nodeStarted), "$NEX.events.system.node_started"),
        (.event(ns, .functionExecFailed), "$NEX.events.acme.function_exec_failed"),
        (.workloadLog(.default, node, try! WorkloadName("echoservice"), try! WorkloadID("vm1234")), "$NEX.logs.default.\(Fixtures.nodeKey).echoservice.vm1234"),
        (.nodeLog(node, .stdout), "$NEX.logs.system.\(Fixtures.nodeKey).stdout"),
        (.nodeLog(node, .stderr), "$NEX.logs.system.\(Fixtures.nodeKey).stderr"),
    ]

    @Test("build and parse round trip", arguments: table)
    func roundTrip(subject: NexSubject, text: String) {
        #expect(subject.description == text)
        #expect(NexSubject(parsing: text) == subject)
        #expect(NexSubject(parsing: Substring(text)) == subject)
    }

    @Test("namespace and node accessors")
    func accessors() {
        #expect(NexSubject.deploy(Self.ns, Self.node).namespace == Self.ns)
        #expect(NexSubject.deploy(Self.ns, Self.node).nodeID == Self.node)
        #expect(NexSubject.lameDuck(Self.node).namespace == nil)
        #expect(NexSubject.ping.nodeID == nil)
        #expect(NexSubject.nodeLog(Self.node, .stdout).namespace == .system)
        #expect(NexSubject.event(Self.ns, .heartbeat).nodeID == nil)
    }

    @Test("invalid subjects parse to nil", arguments: [
        "", "$NEX", "$NEX.", "NEX.PING", "$nex.PING", "$NEX.ping", "$NEX.PING.", "$NEX.PING.*", "$NEX.PING.>",
        "$NEX.PING.NOTANODE", "$NEX.PING.\(Fixtures.nodeKey).extra",
        "$NEX.PING.UAB2CB576PHBBPQ5ODORRZ2LYCMWPZGWGCN2KDK7DXOIMZASKUY3RSWB",  // wrong role letter
        "$NEX.PING.NAB2CB576PHBBPQ5ODORRZ2LYCMWPZGWGCN2KDK7DXOIMZASKUY3RSWC",  // bad checksum
        "$NEX.AUCTION.x", "$NEX.WPING", "$NEX.WPING.*", "$NEX.WPING.>", "$NEX.WPING..x", "$NEX.WPING.a.b.c", "$NEX.WPING.a.*",
        "$NEX.INFO.acme", "$NEX.INFO.*.\(Fixtures.nodeKey)", "$NEX.INFO..\(Fixtures.nodeKey)", "$NEX.INFO.acme.\(Fixtures.nodeKey).x",
        "$NEX.DEPLOY.\(Fixtures.nodeKey)", "$NEX.RUN.acme.\(Fixtures.nodeKey)", "$NEX.STOP.acme.NNODE",
        "$NEX.LAMEDUCK", "$NEX.LAMEDUCK.acme.\(Fixtures.nodeKey)",
        "$NEX.events.acme", "$NEX.events.acme.*", "$NEX.events.*.heartbeat", "$NEX.events.acme.heartbeat.x",
        "$NEX.logs.acme.\(Fixtures.nodeKey).w1",  // 0.x's buggy 5-token subject
        "$NEX.logs.acme.\(Fixtures.nodeKey).bad.name.w1", "$NEX.logs.acme.\(Fixtures.nodeKey).echo.*",
        "$NEX.logs.acme.\(Fixtures.nodeKey).stdout", "$NEX.logs.system.\(Fixtures.nodeKey).stdin",
        "$NEX.logs.*.\(Fixtures.nodeKey).echo.w1", "$NEX.PING .x", " $NEX.PING",
    ])
    func invalid(text: String) {
        #expect(NexSubject(parsing: text) == nil)
    }

    @Test("subscription patterns")
    func subscriptions() throws {
        let node = Self.node
        #expect(NexSubscriptions.ping == "$NEX.PING")
        #expect(NexSubscriptions.auction == "$NEX.AUCTION")
        #expect(NexSubscriptions.workloadPing == "$NEX.WPING.>")
        #expect(NexSubscriptions.ping(node: node) == "$NEX.PING.\(node)")
        #expect(NexSubscriptions.info(node: node) == "$NEX.INFO.*.\(node)")
        #expect(NexSubscriptions.deploy(node: node) == "$NEX.DEPLOY.*.\(node)")
        #expect(NexSubscriptions.stop(node: node) == "$NEX.STOP.*.\(node)")
        #expect(NexSubscriptions.lameDuck(node: node) == "$NEX.LAMEDUCK.\(node)")
        #expect(NexSubscriptions.events() == "$NEX.events.*.*")
        #expect(NexSubscriptions.events(namespace: .system) == "$NEX.events.system.*")
        #expect(NexSubscriptions.events(namespace: Self.ns, type: .heartbeat) == "$NEX.events.acme.heartbeat")
        #expect(NexSubscriptions.logs() == "$NEX.logs.*.*.*.*")
        #expect(NexSubscriptions.logs(namespace: .default, workloadName: try WorkloadName("echo")) == "$NEX.logs.default.*.echo.*")
    }
}
