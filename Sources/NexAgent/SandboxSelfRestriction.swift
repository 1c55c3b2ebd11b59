import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The network half of the sandbox, which the agent applies to itself first thing (before any
/// connection, before any workload): Landlock rules that allow TCP connections only to the ports the
/// node lists in `NEX_SANDBOX_TCP_PORTS`, deny every TCP bind, and (ABI ≥ 6) scope abstract Unix
/// sockets and signals to the sandbox. Landlock domains are inherited and cannot be lifted, so every
/// workload the agent starts is held to the same rules. UDP and raw sockets are refused by the
/// sandbox's seccomp program (Landlock has no rules for them).
///
/// Fails closed: when the variable is set and the rules cannot be applied, the agent must not run.
public enum SandboxSelfRestriction {
    public static let allowedPortsVariable = "NEX_SANDBOX_TCP_PORTS"

    /// Applies the rules when the node asked for them (the variable is set); returns the ports allowed,
    /// or `nil` when nothing was asked.
    ///
    /// - Throws: ``NexAgentError`` with code ``NexAgentError/Code/invalidEnvironment`` when the port list
    ///   is malformed or Landlock refuses.
    @discardableResult
    public static func applyIfRequested(environment: [String: String] = ProcessInfo.processInfo.environment) throws(NexAgentError) -> [UInt16]? {
        guard let list = environment[allowedPortsVariable] else { return nil }
        var ports: [UInt16] = []
        for item in list.split(separator: ",") {
            guard let port = UInt16(item.trimmingCharacters(in: .whitespaces)), port > 0 else {
                throw NexAgentError(code: .invalidEnvironment, message: "\(allowedPortsVariable): \"\(item)\" is not a port")
            }
            ports.append(port)
        }
        #if os(Linux)
        try restrict(toPorts: ports)
        return ports
        #else
        throw NexAgentError(code: .invalidEnvironment, message: "Landlock network rules need Linux")
        #endif
    }

    #if os(Linux)
    private typealias Syscall4 = @convention(c) (Int, Int, Int, Int, Int) -> Int
    private typealias Prctl = @convention(c) (Int32, UInt, UInt, UInt, UInt) -> Int32

    private static func restrict(toPorts ports: [UInt16]) throws(NexAgentError) {
        guard let syscallSymbol = dlsym(nil, "syscall"), let prctlSymbol = dlsym(nil, "prctl") else {
            throw NexAgentError(code: .invalidEnvironment, message: "cannot find syscall/prctl")
        }
        let call = unsafeBitCast(syscallSymbol, to: Syscall4.self)
        let prctl = unsafeBitCast(prctlSymbol, to: Prctl.self)
        let createRuleset = 444, addRule = 445, restrictSelf = 446  // the same on x86_64 and aarch64
        func failure(_ what: String) -> NexAgentError {
            NexAgentError(code: .invalidEnvironment, message: "sandbox network rules: \(what): \(String(cString: strerror(errno)))")
        }

        let abi = call(createRuleset, 0, 0, 1, 0)  // LANDLOCK_CREATE_RULESET_VERSION
        guard abi >= 4 else {
            throw NexAgentError(code: .invalidEnvironment, message: "sandbox network rules need Landlock ABI 4 (kernel 6.7); this kernel offers \(abi)")
        }
        let bindTCP: UInt64 = 1, connectTCP: UInt64 = 2
        // struct landlock_ruleset_attr { handled_access_fs, handled_access_net, scoped (ABI 6) }
        var attributes: [UInt64] = [0, bindTCP | connectTCP, abi >= 6 ? 0b11 : 0]  // scope abstract unix sockets and signals
        let size = abi >= 6 ? 24 : 16
        let ruleset = attributes.withUnsafeMutableBytes { call(createRuleset, Int(bitPattern: $0.baseAddress), size, 0, 0) }
        guard ruleset >= 0 else { throw failure("landlock_create_ruleset") }
        defer { close(Int32(ruleset)) }
        for port in Set(ports) {
            // struct landlock_net_port_attr { allowed_access, port }; rule type LANDLOCK_RULE_NET_PORT = 2.
            var rule: [UInt64] = [connectTCP, UInt64(port)]
            let added = rule.withUnsafeMutableBytes { call(addRule, ruleset, 2, Int(bitPattern: $0.baseAddress), 0) }
            guard added == 0 else { throw failure("landlock_add_rule(port \(port))") }
        }
        // Required for an unprivileged restrict_self; bubblewrap has usually set it already.
        guard prctl(38, 1, 0, 0, 0) == 0 else { throw failure("PR_SET_NO_NEW_PRIVS") }  // PR_SET_NO_NEW_PRIVS
        guard call(restrictSelf, ruleset, 0, 0, 0) == 0 else { throw failure("landlock_restrict_self") }
    }
    #endif
}
