import Foundation
import NexAPI
import NKeys
import Testing
@testable import NexCLI

@Suite("NexCLITests contexts")
struct ContextTests {
    /// Files of a pretend home, read through the same closure the command uses for real files.
    private func reader(_ files: [String: String]) -> (String) -> [UInt8]? {
        { files[$0].map { Array($0.utf8) } }
    }

    private let contextJSON = """
    {"description":"staging","url":"nats://ctx:4222","token":"","user":"ctxuser","password":"ctxpass","creds":"",
     "nkey":"","cert":"/ctx/cert.pem","key":"/ctx/key.pem","ca":"/ctx/ca.pem","nsc":"","jetstream_domain":"hub",
     "jetstream_api_prefix":"","jetstream_event_prefix":"","inbox_prefix":"_INBOX_ctx","user_jwt":"","color_scheme":"","tls_first":false}
    """

    @Test func parsesAnatsCLIContextFileAndTreatsEmptyAsUnset() throws {
        let context = try NATSContext.parse(Array(contextJSON.utf8), name: "staging")
        #expect(context.url == "nats://ctx:4222")
        #expect(context.user == "ctxuser")
        #expect(context.password == "ctxpass")
        #expect(context.token == nil)
        #expect(context.creds == nil)
        #expect(context.ca == "/ctx/ca.pem")
        #expect(context.inboxPrefix == "_INBOX_ctx")
        #expect(context.jetStreamDomain == "hub")
        #expect(throws: CLIError.self) { try NATSContext.parse(Array("{not json".utf8), name: "bad") }
    }

    @Test func selectedContextComesFromContextTxtUnderHomeOrXDG() throws {
        let files = ["/home/u/.config/nats/context.txt": "staging\n",
                     "/home/u/.config/nats/context/staging.json": contextJSON,
                     "/xdg/nats/context.txt": "other",
                     "/xdg/nats/context/other.json": #"{"url":"nats://xdg:1"}"#]
        let home = ["HOME": "/home/u"]
        #expect(NATSContext.selectedName(explicit: nil, environment: home, readFile: reader(files)) == "staging")
        #expect(NATSContext.selectedName(explicit: "picked", environment: home, readFile: reader(files)) == "picked")
        #expect(NATSContext.selectedName(explicit: nil, environment: home.merging(["NATS_CONTEXT": "env"]) { $1 }, readFile: reader(files)) == "env")
        let xdg = home.merging(["XDG_CONFIG_HOME": "/xdg"]) { $1 }
        #expect(NATSContext.selectedName(explicit: nil, environment: xdg, readFile: reader(files)) == "other")
        #expect(try NATSContext.load(name: "other", environment: xdg, readFile: reader(files)).url == "nats://xdg:1")
        #expect(NATSContext.selectedName(explicit: nil, environment: [:], readFile: reader(files)) == nil)
    }

    @Test func flagsThenEnvironmentThenContextThenDefaults() throws {
        let files = ["/home/u/.config/nats/context.txt": "staging",
                     "/home/u/.config/nats/context/staging.json": contextJSON]
        let environment = ["HOME": "/home/u"]

        // The selected context alone.
        let fromContext = try ConnectionOptions.parse([]).resolve(environment: environment, readFile: reader(files))
        #expect(fromContext.url == "nats://ctx:4222")
        #expect(fromContext.credentials == .userPassword(user: "ctxuser", password: "ctxpass"))
        #expect(fromContext.tlsCA == "/ctx/ca.pem")
        #expect(fromContext.tlsCertificate == "/ctx/cert.pem")
        #expect(fromContext.jetStreamDomain == "hub")

        // The environment beats the context.
        let withEnvironment = environment.merging(["NATS_URL": "nats://env:1", "NATS_CREDS": "/env/user.creds"]) { $1 }
        let fromEnvironment = try ConnectionOptions.parse([]).resolve(environment: withEnvironment, readFile: reader(files))
        #expect(fromEnvironment.url == "nats://env:1")
        #expect(fromEnvironment.credentials == .credentialsFile("/env/user.creds"))

        // Flags beat both.
        let flags = try ConnectionOptions.parse(["-s", "nats://flag:2", "--nkey", "/flag/user.nk", "--tlsca", "/flag/ca.pem"])
        let fromFlags = try flags.resolve(environment: withEnvironment, readFile: reader(files))
        #expect(fromFlags.url == "nats://flag:2")
        #expect(fromFlags.credentials == .credentialsFile("/env/user.creds"))  // creds outrank nkeys, as in nats.go
        let nkeyOnly = try flags.resolve(environment: environment, readFile: reader(files))
        #expect(nkeyOnly.credentials == .nkeyFile("/flag/user.nk"))
        #expect(nkeyOnly.tlsCA == "/flag/ca.pem")

        // No context at all: nothing set, so callers use the default server.
        let bare = try ConnectionOptions.parse([]).resolve(environment: [:], readFile: reader(files))
        #expect(bare == ResolvedConnection())
        #expect(try ConnectionOptions.parse([]).serverURL(environment: [:]) == "nats://127.0.0.1:4222")
    }

    @Test func userWithoutPasswordIsATokenAndNamedContextsMustExist() throws {
        let files = ["/h/.config/nats/context/tok.json": #"{"token":"s3cret"}"#]
        let token = try ConnectionOptions.parse(["--context", "tok"]).resolve(environment: ["HOME": "/h"], readFile: reader(files))
        #expect(token.credentials == .token("s3cret"))
        let user = try ConnectionOptions.parse(["--user", "alice"]).resolve(environment: [:], readFile: reader(files))
        #expect(user.credentials == .token("alice"))
        #expect(throws: CLIError.self) {
            try ConnectionOptions.parse(["--context", "missing"]).resolve(environment: ["HOME": "/h"], readFile: reader(files))
        }
        // A stale selection in context.txt is ignored rather than breaking every command.
        let stale = ["/h/.config/nats/context.txt": "gone"]
        #expect(try ConnectionOptions.parse([]).resolve(environment: ["HOME": "/h"], readFile: reader(stale)).url == nil)
        #expect(throws: CLIError.self) {
            try ConnectionOptions.parse(["--tlscert", "/c.pem"]).resolve(environment: [:], readFile: reader(files))
        }
    }
}

@Suite("NexCLITests key files")
struct KeyFileTests {
    private func mode(_ path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    @Test func createsPrivateKeysOnceThenReusesThem() throws {
        let home = try makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: home) }
        let issuerPath = KeyFiles.issuerPath(home: home)
        let publisherPath = KeyFiles.publisherPath(home: home)
        #expect(issuerPath == home + "/.nex/issuer.nk")
        #expect(publisherPath == home + "/.nex/publisher.xk")

        let issuer = try KeyFiles.issuer(at: issuerPath)
        #expect(issuer.created)
        #expect(issuer.key.prefix == .account)
        #expect(KeyFiles.issuerMessage(issuer) == "Wrote new issuer account key: \(issuerPath)")
        let publisher = try KeyFiles.publisher(at: publisherPath)
        #expect(publisher.created)
        #expect(publisher.key.publicKey.hasPrefix("X"))
        #expect(KeyFiles.publisherMessage(publisher) == "Wrote new publisher xkey: \(publisherPath)")
        #expect(try mode(home + "/.nex") == 0o700)
        #expect(try mode(issuerPath) == 0o600)
        #expect(try mode(publisherPath) == 0o600)
        #expect(try String(contentsOfFile: issuerPath, encoding: .utf8).hasPrefix("SA"))

        let again = try KeyFiles.issuer(at: issuerPath)
        #expect(!again.created)
        #expect(again.key.publicKey == issuer.key.publicKey)
        #expect(KeyFiles.issuerMessage(again) == "Reusing existing issuer account key: \(issuerPath)")
        let publisherAgain = try KeyFiles.publisher(at: publisherPath)
        #expect(!publisherAgain.created)
        #expect(publisherAgain.key.publicKey == publisher.key.publicKey)
        #expect(KeyFiles.publisherMessage(publisherAgain) == "Reusing existing publisher xkey: \(publisherPath)")
    }

    @Test func refusesKeysOfTheWrongKind() throws {
        let home = try makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: home) }
        let path = home + "/user.nk"
        try KeyPair.generate(.user).seed.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: CLIError.self) { try KeyFiles.issuer(at: path) }
        #expect(throws: CLIError.self) { try KeyFiles.publisher(at: path) }
        #expect(throws: CLIError.self) { try KeyFiles.existingIssuer(at: home + "/missing.nk") }
        #expect(throws: CLIError.self) { try KeyFiles.existingXKey(at: home + "/missing.xk") }
    }
}

@Suite("NexCLITests workload files")
struct WorkloadFileTests {
    private func header(of path: String) throws -> [UInt8] {
        Array(try #require(FileHandle(forReadingAtPath: path)).read(upToCount: WorkloadFileKind.headerLength) ?? Data())
    }

    @Test func realExecutablesAreNativeForThisHost() throws {
        let kind = try WorkloadFileKind.detect(fileName: "true", header: try header(of: "/bin/true"))
        #expect(kind.type == .native)
        #expect(kind.os == "linux")
        #if arch(x86_64)
        #expect(kind.arch == "amd64")
        #elseif arch(arm64)
        #expect(kind.arch == "arm64")
        #endif
    }

    @Test func machOAndPEHeaders() throws {
        // The first bytes of a 64-bit Mach-O for arm64 (magic, cputype 0x0100000C).
        let macho: [UInt8] = [0xCF, 0xFA, 0xED, 0xFE, 0x0C, 0x00, 0x00, 0x01] + [UInt8](repeating: 0, count: 24)
        #expect(try WorkloadFileKind.detect(fileName: "app", header: macho) == WorkloadFileKind(type: .native, os: "darwin", arch: "arm64"))
        // A PE file: "MZ", e_lfanew = 0x80, then "PE\0\0" and machine 0x8664 (amd64).
        var pe = [UInt8](repeating: 0, count: 0x90)
        pe[0] = 0x4D; pe[1] = 0x5A; pe[0x3C] = 0x80
        pe[0x80] = 0x50; pe[0x81] = 0x45; pe[0x84] = 0x64; pe[0x85] = 0x86
        #expect(try WorkloadFileKind.detect(fileName: "app.exe", header: pe) == WorkloadFileKind(type: .native, os: "windows", arch: "amd64"))
    }

    @Test func scriptsByExtensionAndWasmByMagic() throws {
        #expect(try WorkloadFileKind.detect(fileName: "echo.js", header: Array("export default".utf8)).type == .v8)
        #expect(try WorkloadFileKind.detect(fileName: "echo.wasm", header: []).type == .wasm)
        #expect(try WorkloadFileKind.detect(fileName: "module.bin", header: [0x00, 0x61, 0x73, 0x6D, 1, 0, 0, 0]).type == .wasm)
    }

    @Test func anythingElseIsNotAWorkload() {
        #expect {
            try WorkloadFileKind.detect(fileName: "notes.txt", header: Array("hello".utf8))
        } throws: { error in
            (error as? CLIError)?.message.contains("notes.txt is not a workload") == true
        }
    }

    @Test func objectKeysDropDotsAndDirectories() {
        #expect(WorkloadFileKind.objectKey(forPath: "./dist/echofunction.js") == "echofunctionjs")
        #expect(WorkloadFileKind.objectKey(forPath: "echoservice") == "echoservice")
        #expect(WorkloadFileKind.objectKey(forPath: "/tmp/a.b.c.wasm") == "abcwasm")
    }

    @Test func environmentArgumentsAreKeyValue() throws {
        #expect(try WorkloadOptions.parseEnvironment(["A=1", "B=x=y", "C="]) == ["A": "1", "B": "x=y", "C": ""])
        #expect(throws: CLIError.self) { try WorkloadOptions.parseEnvironment(["novalue"]) }
        #expect(throws: CLIError.self) { try WorkloadOptions.parseEnvironment(["=1"]) }
    }
}
