import Logging
import Synchronization
import Glibc
import Testing

@testable import NativeRuntime

/// Events with pids replaced by 0, so runs compare against a fixed expectation.
private func normalized(_ event: ServiceSupervisor.Event) -> ServiceSupervisor.Event {
    if case .started = event { return .started(pid: 0) }
    return event
}

/// Runs the supervisor to its end and returns every event; `onEvent` may act on each as it comes.
private func supervise(
    _ supervisor: ServiceSupervisor,
    output: @escaping @Sendable (OutputLine) async -> Void = { _ in },
    onEvent: @escaping @Sendable (ServiceSupervisor.Event) async -> Void = { _ in }
) async -> [ServiceSupervisor.Event] {
    await withTaskGroup(of: [ServiceSupervisor.Event].self) { group in
        group.addTask {
            await supervisor.run(output: output)
            return []
        }
        group.addTask {
            var events: [ServiceSupervisor.Event] = []
            for await event in supervisor.events {
                events.append(event)
                await onEvent(event)
            }
            return events
        }
        var all: [ServiceSupervisor.Event] = []
        for await events in group { all += events }
        return all
    }
}

@Suite struct ServiceSupervisorTests {
    let logger = Logger(label: "nex.native.supervisor.test")

    @Test func restartsACrashingServiceOnScheduleThenGivesUp() async {
        let policy = RestartPolicy(
            maxRestarts: 3, initialBackoff: .milliseconds(10), maxBackoff: .milliseconds(30), multiplier: 2,
            resetAfter: nil
        )
        let supervisor = ServiceSupervisor(
            configuration: Fixture.configuration(["exit", "3"]), restartPolicy: policy, logger: logger
        )
        let events = await supervise(supervisor)
        #expect(events.map(normalized) == [
            .started(pid: 0), .exited(.exited(3)), .restarting(attempt: 1, after: .milliseconds(10)),
            .started(pid: 0), .exited(.exited(3)), .restarting(attempt: 2, after: .milliseconds(20)),
            .started(pid: 0), .exited(.exited(3)), .restarting(attempt: 3, after: .milliseconds(30)),
            .started(pid: 0), .exited(.exited(3)), .gaveUp,
        ])
        // Every run is a new process.
        let pids = events.compactMap { event -> Int32? in
            if case .started(let pid) = event { return pid }
            return nil
        }
        #expect(Set(pids).count == 4)
    }

    @Test func aCrashBySignalIsRestartedToo() async {
        let supervisor = ServiceSupervisor(
            configuration: Fixture.configuration(["signal", "\(SIGSEGV)"]),
            restartPolicy: RestartPolicy(maxRestarts: 1, initialBackoff: .milliseconds(1), resetAfter: nil),
            logger: logger
        )
        #expect(await supervise(supervisor).map(normalized) == [
            .started(pid: 0), .exited(.signaled(SIGSEGV)), .restarting(attempt: 1, after: .milliseconds(1)),
            .started(pid: 0), .exited(.signaled(SIGSEGV)), .gaveUp,
        ])
    }

    @Test func aCleanExitIsNotRestarted() async {
        let supervisor = ServiceSupervisor(
            configuration: Fixture.configuration(["exit", "0"]),
            restartPolicy: RestartPolicy(maxRestarts: 5, initialBackoff: .milliseconds(1)), logger: logger
        )
        #expect(await supervise(supervisor).map(normalized) == [.started(pid: 0), .exited(.exited(0))])
    }

    @Test func stopEndsSupervisionWithoutRestart() async {
        let supervisor = ServiceSupervisor(
            configuration: Fixture.configuration(["sleep"]),
            restartPolicy: RestartPolicy(maxRestarts: 5, initialBackoff: .milliseconds(1)), logger: logger
        )
        let events = await supervise(supervisor, onEvent: { event in
            if case .started = event { await supervisor.stop() }
        })
        #expect(events.map(normalized) == [.started(pid: 0), .exited(.signaled(SIGTERM))])
        if case .started(let pid) = events.first {
            #expect(!isAlive(pid))
        }
    }

    @Test func stopDuringBackoffCancelsTheRestart() async {
        // A backoff far longer than any test: if stop() did not interrupt it, the test would hang.
        let supervisor = ServiceSupervisor(
            configuration: Fixture.configuration(["exit", "1"]),
            restartPolicy: RestartPolicy(maxRestarts: 5, initialBackoff: .seconds(3600), maxBackoff: .seconds(3600)),
            logger: logger
        )
        let events = await supervise(supervisor, onEvent: { event in
            if case .restarting = event { await supervisor.stop() }
        })
        #expect(events.map(normalized) == [
            .started(pid: 0), .exited(.exited(1)), .restarting(attempt: 1, after: .seconds(3600)),
        ])
    }

    @Test func stopBeforeRunMeansNoRun() async {
        let supervisor = ServiceSupervisor(
            configuration: Fixture.configuration(["sleep"]), restartPolicy: RestartPolicy(), logger: logger
        )
        await supervisor.stop()
        #expect(await supervise(supervisor).isEmpty)
    }

    @Test func disabledRestartsMakeTheCurrentRunTheLast() async {
        let supervisor = ServiceSupervisor(
            configuration: Fixture.configuration(["exit", "2"]),
            restartPolicy: RestartPolicy(maxRestarts: 5, initialBackoff: .milliseconds(1)), logger: logger
        )
        supervisor.disableRestarts()
        #expect(await supervise(supervisor).map(normalized) == [.started(pid: 0), .exited(.exited(2))])
    }

    @Test func aFailedStartCountsAsAFailure() async {
        var configuration = Fixture.configuration([])
        configuration.executable = "/nonexistent/nex-service"
        let supervisor = ServiceSupervisor(
            configuration: configuration,
            restartPolicy: RestartPolicy(maxRestarts: 1, initialBackoff: .milliseconds(1), resetAfter: nil),
            logger: logger
        )
        let events = await supervise(supervisor)
        #expect(events.count == 4)
        guard events.count == 4 else { return }
        if case .startFailed(let error) = events[0] { #expect(error.code == .spawnFailed) } else { Issue.record("\(events[0])") }
        #expect(events[1] == .restarting(attempt: 1, after: .milliseconds(1)))
        if case .startFailed = events[2] {} else { Issue.record("\(events[2])") }
        #expect(events[3] == .gaveUp)
    }

    @Test func everyOutputLineIsHandledBeforeTheRunsExitEvent() async {
        final class Record: Sendable {
            let entries = Mutex<[String]>([])
        }
        let record = Record()
        let supervisor = ServiceSupervisor(
            configuration: Fixture.configuration(["flood", "1000"], output: .init(bufferedLines: 2000)),
            restartPolicy: RestartPolicy(maxRestarts: 0), logger: logger
        )
        _ = await supervise(supervisor, output: { line in
            record.entries.withLock { $0.append(line.line) }
        }, onEvent: { event in
            if case .exited = event { record.entries.withLock { $0.append("exited") } }
        })
        let entries = record.entries.withLock { $0 }
        #expect(entries == (0..<1000).map { "flood line \($0)" } + ["exited"])
    }
}
