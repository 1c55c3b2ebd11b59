import Testing
@testable import NATSTestSupport

@Suite("Configuration rendering")
struct ConfigurationTests {
    @Test("strings are quoted with escapes")
    func quoting() {
        #expect(NATSServer.quoted(#"a"b\c"#) == #""a\"b\\c""#)
        #expect(NATSServer.quoted("line\nbreak") == #""line\nbreak""#)
    }

    @Test("durations become whole milliseconds")
    func durations() {
        #expect(NATSServer.durationString(.seconds(2)) == "2000ms")
        #expect(NATSServer.durationString(.milliseconds(1500)) == "1500ms")
        #expect(NATSServer.durationString(.microseconds(10)) == "1ms")
    }

    @Test("cluster routes from the launch replace the configured ones")
    func clusterRoutes() {
        let options = NATSServer.Options(cluster: .init(name: "c1", routes: ["nats-route://127.0.0.1:1"]))
        let launch = NATSServer.Launch(clientPort: 4222, clusterPort: 6222, routes: ["nats-route://127.0.0.1:2"], monitoring: true)
        let config = NATSServer.configuration(options: options, launch: launch, directory: "/tmp/x")
        #expect(config.contains(#"listen: "127.0.0.1:4222""#))
        #expect(config.contains(#"listen: "127.0.0.1:6222""#))
        #expect(config.contains(#"routes: [ "nats-route://127.0.0.1:2" ]"#))
        #expect(!config.contains("127.0.0.1:1\""))
        #expect(config.contains(#"http: "127.0.0.1:-1""#))
    }

    @Test("ports are picked by the server unless fixed")
    func randomPorts() {
        let config = NATSServer.configuration(options: .init(), launch: .init(monitoring: false), directory: "/tmp/x")
        #expect(config == "listen: \"127.0.0.1:-1\"\n")
    }

    @Test("log lines yield their port")
    func portParsing() {
        let log = "[1] [INF] Listening for client connections on 127.0.0.1:41234\n[1] [INF] Server is ready\n"
        #expect(NATSServer.port(in: log, after: "Listening for client connections on 127.0.0.1:") == 41234)
        #expect(NATSServer.port(in: log, after: "Listening for route connections on 127.0.0.1:") == nil)
    }
}
