import Foundation
import NIOCore
import Testing

@testable import NATSProtocol

@Suite("INFO and CONNECT JSON")
struct InfoConnectTests {
    private func infoJSON(_ line: String) -> String {
        var json = line.dropFirst("INFO ".count)
        while json.last == "\n" || json.last == "\r" || json.last == " " {
            json = json.dropLast()
        }
        return String(json)
    }

    @Test func realServerInfoDecodes() throws {
        let json = self.infoJSON(realInfoLine)
        let info = try Array(json.utf8).withUnsafeBytes { try ServerInfo(json: $0) }
        #expect(info == realInfo)
        #expect(info.serverID.count == 56)
        #expect(info.maxPayload == 1_048_576)
        #expect(info.headers == true)
        #expect(info.authRequired == nil)
    }

    @Test func infoRoundTripsThroughJSON() throws {
        let encoded = try JSONEncoder().encode(realInfo)
        #expect(try JSONDecoder().decode(ServerInfo.self, from: encoded) == realInfo)

        // Re-encoding the real line keeps exactly the server's keys and values.
        let original = try JSONSerialization.jsonObject(with: Data(self.infoJSON(realInfoLine).utf8)) as? NSDictionary
        let reencoded = try JSONSerialization.jsonObject(with: encoded) as? NSDictionary
        #expect(original != nil)
        #expect(original == reencoded)
    }

    @Test func fullInfoWithEveryField() throws {
        let json = """
            {"server_id":"S","server_name":"n1","version":"2.9.10","go":"go1.19","host":"0.0.0.0","port":4222,
             "headers":true,"max_payload":1024,"proto":1,"client_id":18446744073709551615,"auth_required":true,
             "tls_required":false,"tls_verify":false,"tls_available":true,
             "connect_urls":["10.0.0.1:4222","10.0.0.2:4222"],"ws_connect_urls":["10.0.0.1:8080"],"ldm":true,
             "git_commit":"abc","jetstream":true,"ip":"10.0.0.1","client_ip":"10.0.0.9","nonce":"NONCE",
             "cluster":"c1","domain":"hub","xkey":"XKEY","unknown_future_field":{"a":1}}
            """
        let info = try Array(json.utf8).withUnsafeBytes { try ServerInfo(json: $0) }
        #expect(info.serverName == "n1")
        #expect(info.goVersion == "go1.19")
        #expect(info.clientID == UInt64.max)
        #expect(info.authRequired == true)
        #expect(info.tlsAvailable == true)
        #expect(info.connectURLs == ["10.0.0.1:4222", "10.0.0.2:4222"])
        #expect(info.webSocketConnectURLs == ["10.0.0.1:8080"])
        #expect(info.lameDuckMode == true)
        #expect(info.gitCommit == "abc")
        #expect(info.ip == "10.0.0.1")
        #expect(info.clientIP == "10.0.0.9")
        #expect(info.nonce == "NONCE")
        #expect(info.cluster == "c1")
        #expect(info.domain == "hub")
        #expect(info.xkey == "XKEY")
    }

    @Test func connectDefaultsGolden() throws {
        var buffer = ByteBuffer()
        try buffer.writeConnect(ConnectInfo())
        #expect(
            String(buffer: buffer)
                == #"CONNECT {"echo":true,"headers":true,"lang":"swift","no_responders":true,"pedantic":false,"#
                + #""protocol":1,"tls_required":false,"verbose":false,"version":"0.1.0"}"# + "\r\n"
        )
    }

    @Test func connectWithCredentialsUsesProtocolKeys() throws {
        let info = ConnectInfo(
            verbose: true,
            authToken: "tok",
            user: "u",
            password: "p/w",
            name: "svc",
            echo: false,
            signature: "sig",
            jwt: "eyJ",
            nkey: "UABC",
            noResponders: false
        )
        var buffer = ByteBuffer()
        try buffer.writeConnect(info)
        let line = String(buffer: buffer)
        #expect(line.hasPrefix("CONNECT {") && line.hasSuffix("}\r\n"))
        let json = line.dropFirst("CONNECT ".count).dropLast()  // "\r\n" is one Character
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(Set(object.keys) == [
            "verbose", "pedantic", "tls_required", "auth_token", "user", "pass", "name", "lang", "version",
            "protocol", "echo", "sig", "jwt", "nkey", "headers", "no_responders",
        ])
        #expect(object["pass"] as? String == "p/w")
        #expect(json.contains(#""pass":"p/w""#), "slashes are not escaped")
        #expect(try JSONDecoder().decode(ConnectInfo.self, from: Data(json.utf8)) == info)
    }
}
