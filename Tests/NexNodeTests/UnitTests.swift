import NexTestSupport
import Foundation
import NKeys
import NexAPI
import Testing
@testable import NexNode

@Suite struct AuctionTermsTests {
    let terms = AuctionTerms(tags: ["nex.os": "linux", "nex.arch": "amd64", "zone": "eu"], noSandbox: true,
                             workloadTypes: [.native, .wasm], lameDuck: false)

    @Test func emptyRequestBids() {
        #expect(terms.bids(on: AuctionRequest()))
    }

    @Test func matchingCriteriaBidCaseInsensitively() {
        #expect(terms.bids(on: AuctionRequest(arch: "AMD64", os: "Linux", sandboxed: false, tags: ["zone": "EU"],
                                              workloadTypes: [.elf, .wasm])))
    }

    @Test(arguments: [
        AuctionRequest(arch: "arm64"),
        AuctionRequest(os: "darwin"),
        AuctionRequest(sandboxed: true),
        AuctionRequest(tags: ["zone": "us"]),
        AuctionRequest(tags: ["rack": "1"]),
        AuctionRequest(workloadTypes: [.v8]),
        AuctionRequest(workloadTypes: [.native, .oci]),
    ])
    func mismatchStaysSilent(_ request: AuctionRequest) {
        #expect(!terms.bids(on: request))
    }

    @Test func sandboxedNodeBidsOnlyForSandboxedRequests() {
        var sandboxed = terms
        sandboxed.noSandbox = false
        #expect(sandboxed.bids(on: AuctionRequest(sandboxed: true)))
        #expect(!sandboxed.bids(on: AuctionRequest(sandboxed: false)))
    }

    @Test func lameDuckNeverBids() {
        var lameDuck = terms
        lameDuck.lameDuck = true
        #expect(!lameDuck.bids(on: AuctionRequest()))
    }
}

@Suite struct MemoryStatParsingTests {
    @Test func parsesProcMeminfo() {
        let text = """
            MemTotal:       16315092 kB
            MemFree:          923412 kB
            MemAvailable:    9876543 kB
            Buffers:          123456 kB
            """
        #expect(MemoryStat(meminfo: text) == MemoryStat(total: 16315092, free: 923412, available: 9876543))
    }

    @Test func missingFieldGivesNil() {
        #expect(MemoryStat(meminfo: "MemTotal: 1 kB\nMemFree: 2 kB\n") == nil)
        #expect(MemoryStat(meminfo: "") == nil)
    }
}

@Suite struct NodeIdentityTests {
    private func temporaryPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("nexnode-\(UUID().uuidString)").path
    }

    @Test func seedFileKeepsTheNodeIDAndXKeyIsFresh() throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let first = try NodeIdentity.load(seedFile: path)
        let second = try NodeIdentity.load(seedFile: path)
        #expect(first.nodeID == second.nodeID)
        #expect(first.nodeID.rawValue.hasPrefix("N"))
        #expect(first.xkey.publicKey != second.xkey.publicKey)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let seed = try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try KeyPair(seed: seed).publicKey == first.nodeID.rawValue)
    }

    @Test func existingSeedIsUsed() throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let key = KeyPair.generate(.server)
        try (key.seed + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try NodeIdentity.load(seedFile: path).nodeID.rawValue == key.publicKey)
    }

    @Test func nonServerSeedIsRejected() throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try KeyPair.generate(.user).seed.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: NexNodeError.self) { try NodeIdentity.load(seedFile: path) }
        try "not a seed".write(toFile: path, atomically: true, encoding: .utf8)
        let error = #expect(throws: NexNodeError.self) { try NodeIdentity.load(seedFile: path) }
        #expect(error?.code == .invalidIdentity)
    }

    @Test func generatedIdentitiesDiffer() {
        #expect(NodeIdentity.generate().nodeID != NodeIdentity.generate().nodeID)
    }
}
