import ArgumentParser
import Foundation
import NexAPI
import NexClient
import UnixSignals

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// How `nex logs` and `nex events` render records: one line each, coloured only when asked.
public enum WatchOutput {
    /// Whether to colour output on stdout: only on a terminal and not when `NO_COLOR` is set (no-color.org).
    public static func useColor(environment: [String: String], isTerminal: Bool) -> Bool {
        isTerminal && (environment["NO_COLOR"] ?? "").isEmpty
    }

    /// `HH:MM:SS.mmm level [namespace node workloadName workloadID] text`, the text on one line.
    public static func logLine(_ message: NexLogMessage, receivedAt date: Date, color: Bool) -> String {
        let level = message.record.level
        let levelText = pad(level.description, 5)
        let coloured = color ? paint(levelText, levelColor(level)) : levelText
        let origin = "[\(message.namespace) \(shortNode(message.nodeID.rawValue)) \(message.workloadName) \(message.workloadID)]"
        return "\(clock(date)) \(coloured) \(color ? paint(origin, "2") : origin) \(oneLine(message.record.text))"
    }

    /// `HH:MM:SS.mmm type namespace source: summary`; the event's own time when it has one.
    public static func eventLine(_ message: NexEventMessage, receivedAt date: Date, color: Bool) -> String {
        let event = message.event.event
        let time = event.time?.date ?? date
        let type = color ? paint(event.type.rawValue, "36") : event.type.rawValue
        return "\(clock(time)) \(type) \(message.namespace) \(event.source): \(summary(event.data))"
    }

    /// What an event says, in words.
    public static func summary(_ payload: NexEventPayload) -> String {
        switch payload {
        case .nodeStarted(let data):
            return "node \(data.id) started (version \(data.version))"
        case .nodeStopped(let data):
            return "node \(data.id) stopped" + (data.graceful ? " gracefully" : "")
        case .heartbeat(let data):
            return "node \(data.nodeID) heartbeat: \(data.runningMachines) workload(s), up \(data.uptime)"
        case .nodeEnteredLameDuck(let data):
            return "node \(data.id) entered lame duck mode"
        case .workloadDeployed(let data):
            return "workload \(data.workloadName) (\(data.workloadID)) deployed"
                + (data.totalBytes.map { ", \($0) bytes" } ?? "") + (data.essential == true ? ", essential" : "")
        case .workloadExited(let data):
            return "workload \(data.workloadName) (\(data.workloadID)) exited with code \(data.code)"
                + (data.message.isEmpty ? "" : ": \(oneLine(data.message))")
        case .workloadUndeployed(let data):
            return "workload \(data.workloadName) (\(data.workloadID)) undeployed: \(data.reason)"
        case .workloadRestarting(let data):
            return "workload \(data.workloadName) (\(data.workloadID)) failed with code \(data.code), restarting"
                + (data.message.isEmpty ? "" : ": \(oneLine(data.message))")
        case .functionExecSucceeded(let data):
            let milliseconds = Double(data.elapsedNanos) / 1_000_000
            return "function \(data.workloadName) (\(data.workloadID)) triggered on \(data.triggerSubject) succeeded in \(milliseconds) ms"
        case .functionExecFailed(let data):
            return "function \(data.workloadName) (\(data.workloadID)) triggered on \(data.triggerSubject) failed: \(oneLine(data.error))"
        case .agentStarted(let data):
            return "agent started (version \(data.agentVersion))"
        case .agentStopped(let data):
            return "agent stopped with code \(data.code): \(oneLine(data.message))"
        case .other(let value):
            return (try? NexJSON.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "(unprintable data)"
        }
    }

    /// The JSON `nex logs --json` prints per record: where it came from plus the record's fields.
    public static func logJSON(_ message: NexLogMessage) -> String {
        let object: JSONValue = .object([
            "namespace": .string(message.namespace.rawValue), "node_id": .string(message.nodeID.rawValue),
            "workload_name": .string(message.workloadName.rawValue), "workload_id": .string(message.workloadID.rawValue),
            "text": .string(message.record.text), "level": .string(message.record.level.description), "id": .string(message.record.id),
        ])
        return (try? NexJSON.encode(object)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    /// The CloudEvent as JSON, for `nex events --json`.
    public static func eventJSON(_ message: NexEventMessage) -> String {
        (try? NexJSON.encode(message.event)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    // MARK: - Pieces

    static func levelColor(_ level: NexLogLevel) -> String {
        if level >= .error { return "31" }
        if level >= .warn { return "33" }
        if level >= .info { return "32" }
        return "90"
    }

    static func paint(_ text: String, _ code: String) -> String { "\u{1B}[\(code)m\(text)\u{1B}[0m" }

    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    /// Node IDs are 56 characters; the first twelve tell nodes apart in practice.
    static func shortNode(_ id: String) -> String { id.count > 12 ? String(id.prefix(12)) + "…" : id }

    /// Trailing newlines dropped, inner ones shown as `⏎` so a record stays one line.
    static func oneLine(_ text: String) -> String {
        var trimmed = Substring(text)
        while let last = trimmed.last, last == "\n" || last == "\r" { trimmed.removeLast() }
        return trimmed.replacingOccurrences(of: "\r\n", with: "⏎").replacingOccurrences(of: "\n", with: "⏎")
    }

    static func clock(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        localtime_r(&seconds, &parts)
        let milliseconds = Int((date.timeIntervalSince1970 - Double(seconds)) * 1000)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let millis = milliseconds < 10 ? "00\(milliseconds)" : milliseconds < 100 ? "0\(milliseconds)" : "\(milliseconds)"
        return "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)).\(millis)"
    }
}

/// Runs `body` until it returns or SIGINT/SIGTERM arrives; then `close` ends the streams `body` reads,
/// and the command exits 0 (following until interrupted is the normal way to end it).
func followUntilInterrupted(close: @escaping @Sendable () async -> Void,
                            _ body: @escaping @Sendable () async throws -> Void) async throws {
    let signals = await UnixSignalsSequence(trapping: .sigint, .sigterm)
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await body() }
        group.addTask {
            for await _ in signals { return }
        }
        defer { group.cancelAll() }
        try await group.next()
        await close()
    }
}

/// `nex logs`: follows workload log records of the namespace.
public struct Logs: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "logs", abstract: "Follow the logs of workloads until interrupted.",
        discussion: """
        Records come from $NEX.logs.<namespace>.<node>.<workload name>.<workload id>; each filter left out \
        matches everything. Stdout writes are INFO, stderr writes ERROR. Ctrl-C ends it.

        Examples:
          nex logs
          nex logs --workload_name echoservice --namespace team
          nex logs --node NBZ... --json
        """)

    @OptionGroup public var connection: ConnectionOptions

    @Option(help: "Only this node ID.")
    public var node: String?

    @Option(name: .customLong("workload_name"), help: "Only workloads with this name.")
    public var workloadName: String?

    @Option(name: .customLong("workload_id"), help: "Only the workload with this ID.")
    public var workloadID: String?

    @Option(help: "Lowest level shown: debug, info, warn or error (default debug).")
    public var level: String = "debug"

    @Flag(help: "Print each record as JSON.")
    public var json = false

    public init() {}

    public func run() async throws {
        let node = try self.node.map(parseNodeID)
        let name: WorkloadName?
        let id: WorkloadID?
        let minimum: NexLogLevel
        do {
            name = try workloadName.map { (text: String) throws(NexAPIError) in try WorkloadName(text) }
            id = try workloadID.map { (text: String) throws(NexAPIError) in try WorkloadID(text) }
        } catch {
            throw CLIError(error.message)
        }
        guard let parsedLevel = NexLogLevel(text: level) else { throw CLIError("--level \"\(level)\" is not debug, info, warn or error") }
        minimum = parsedLevel
        let color = WatchOutput.useColor(environment: processEnvironment(), isTerminal: isatty(STDOUT_FILENO) == 1)
        let json = self.json
        try await withNexClient(connection) { nex in
            let stream = try await nex.logs(node: node, workloadName: name, workloadID: id, namespace: nex.namespace)
            // The subscription is registered once the SUB is flushed; say so on stderr for scripts that wait.
            try await nex.client.flush()
            printError("Following logs in namespace \(nex.namespace); Ctrl-C to stop")
            try await followUntilInterrupted(close: { try? await stream.close() }) {
                for try await message in stream where message.record.level >= minimum {
                    print(json ? WatchOutput.logJSON(message) : WatchOutput.logLine(message, receivedAt: Date(), color: color))
                    fflush(nil)
                }
            }
        }
    }
}

/// `nex events`: follows the events of the namespace and of the nodes (`system`).
public struct Events: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "events", abstract: "Follow workload and node events until interrupted.",
        discussion: """
        Shows $NEX.events.<namespace>.* together with the nodes' own events on $NEX.events.system.* \
        (started, stopped, heartbeat, lame duck). Ctrl-C ends it.

        Examples:
          nex events
          nex events --namespace team --type workload_deployed --type workload_undeployed
          nex events --json
        """)

    @OptionGroup public var connection: ConnectionOptions

    @Option(help: "Only events of this type; repeatable.")
    public var type: [String] = []

    @Flag(help: "Print each CloudEvent as JSON.")
    public var json = false

    public init() {}

    public func run() async throws {
        let types: [NexEventType]?
        do {
            types = type.isEmpty ? nil : try type.map { (text: String) throws(NexAPIError) in try NexEventType(text) }
        } catch {
            throw CLIError(error.message)
        }
        let color = WatchOutput.useColor(environment: processEnvironment(), isTerminal: isatty(STDOUT_FILENO) == 1)
        let json = self.json
        try await withNexClient(connection) { nex in
            var streams = [try await nex.events(types: types, namespace: nex.namespace)]
            if nex.namespace != .system {
                streams.append(try await nex.events(types: types, namespace: .system))
            }
            try await nex.client.flush()
            printError("Following events in namespace \(nex.namespace) and system; Ctrl-C to stop")
            let all = streams
            try await followUntilInterrupted(close: { for stream in all { try? await stream.close() } }) {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for stream in all {
                        group.addTask {
                            for try await message in stream {
                                let line = json ? WatchOutput.eventJSON(message) : WatchOutput.eventLine(message, receivedAt: Date(), color: color)
                                Self.emit(line)
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
        }
    }

    /// One line per `write(2)`: two streams print concurrently and their lines must not interleave.
    static func emit(_ line: String) {
        writeAll(line + "\n", to: STDOUT_FILENO)
    }
}
