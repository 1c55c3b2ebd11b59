import Foundation

/// A small HTTP/1.1 server in python3 on a random loopback port, for the `http` host service:
///
/// - `GET /query?…` → 200, the raw query string; `GET /gzip` → the text below gzip-compressed when the request
///   accepts gzip; `GET /big?n=N` → N bytes of `x`; `GET /slow` → never answers; `GET /multi` → two `X-Multi`
///   headers; any other GET → 200 `GET <path>` with `X-Test: yes`.
/// - `POST` → 201 echoing the body, with `X-Content-Type` the request's content type.
/// - `PUT`, `PATCH`, `DELETE` → 204 with `X-Method` and `X-Body` (the body received, as text).
/// - `HEAD` → 200 with `Content-Length: 11` and no body.
public final class TestHTTPServer: @unchecked Sendable {
    public static let gzipText = String(repeating: "hello gzip ", count: 200)

    let process: Process
    public let port: Int
    public var url: String { "http://127.0.0.1:\(port)" }

    private init(process: Process, port: Int) {
        self.process = process
        self.port = port
    }

    public static func start() async throws -> TestHTTPServer {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hs-http-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let scriptPath = directory.appendingPathComponent("server.py").path
        let portPath = directory.appendingPathComponent("port").path
        try script.write(toFile: scriptPath, atomically: true, encoding: .utf8)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [scriptPath, portPath]
        process.standardOutput = FileHandle.nullDevice
        try process.run()

        // The script writes the port it bound once it listens.
        for _ in 0..<400 {
            if let text = try? String(contentsOfFile: portPath, encoding: .utf8), text.hasSuffix("\n"),
               let port = Int(text.dropLast()) {
                try? FileManager.default.removeItem(at: directory)
                return TestHTTPServer(process: process, port: port)
            }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        kill(process.processIdentifier, SIGKILL)
        throw TestHTTPServerError(message: "the python HTTP server did not start")
    }

    public func stop() async {
        guard process.isRunning else { return }
        // SIGKILL: the test runner's threads block SIGTERM, and a child inherits that mask.
        kill(process.processIdentifier, SIGKILL)
        for _ in 0..<200 where process.isRunning {
            try? await Task.sleep(for: .milliseconds(25))
        }
    }

    private static let script = #"""
import gzip, os, signal, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit, parse_qs

# The mask inherited from the test runner blocks SIGTERM; and a runner that dies must not leave us behind.
signal.pthread_sigmask(signal.SIG_UNBLOCK, range(1, signal.NSIG))
PARENT = os.getppid()
def watch_parent():
    while os.getppid() == PARENT:
        time.sleep(0.5)
    os._exit(0)
threading.Thread(target=watch_parent, daemon=True).start()

GZIP_TEXT = ("hello gzip " * 200).encode()

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def send(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        if status != 204:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def do_GET(self):
        parts = urlsplit(self.path)
        if parts.path == "/query":
            self.send(200, parts.query.encode())
        elif parts.path == "/gzip":
            if "gzip" in (self.headers.get("Accept-Encoding") or ""):
                self.send(200, gzip.compress(GZIP_TEXT), [("Content-Encoding", "gzip")])
            else:
                self.send(200, GZIP_TEXT)
        elif parts.path == "/big":
            n = int(parse_qs(parts.query)["n"][0])
            self.send(200, b"x" * n)
        elif parts.path == "/slow":
            time.sleep(3600)
        elif parts.path == "/multi":
            self.send(200, b"multi", [("X-Multi", "one"), ("X-Multi", "two")])
        else:
            self.send(200, ("GET " + self.path).encode(), [("X-Test", "yes")])

    def do_POST(self):
        body = self.body()
        self.send(201, body, [("X-Content-Type", self.headers.get("Content-Type") or "")])

    def no_content(self):
        body = self.body()
        self.send(204, b"", [("X-Method", self.command), ("X-Body", body.decode("latin-1"))])

    do_PUT = no_content
    do_PATCH = no_content
    do_DELETE = no_content

    def do_HEAD(self):
        self.send_response(200)
        self.send_header("Content-Length", "11")
        self.send_header("X-Test", "head")
        self.end_headers()

server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write("%d\n" % server.server_address[1])
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
server.serve_forever()
"""#
}

public struct TestHTTPServerError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// Runs `body` with a started server, stopping it afterwards.
public func withTestHTTPServer(_ body: (TestHTTPServer) async throws -> Void) async throws {
    let server = try await TestHTTPServer.start()
    do {
        try await body(server)
    } catch {
        await server.stop()
        throw error
    }
    await server.stop()
}
