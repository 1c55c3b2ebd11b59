/// How a process ended.
public enum ExitStatus: Sendable, Hashable, CustomStringConvertible {
    /// The process called `exit` (or returned from `main`) with this code.
    case exited(Int32)
    /// The process was terminated by this signal.
    case signaled(Int32)

    /// True only for `exit(0)`: the one outcome after which an essential service is not restarted.
    public var isSuccess: Bool { self == .exited(0) }

    /// The code Nex reports in `workload_undeployed`: the exit code, or `128 + signal` the way a
    /// shell reports a signal death, so a crash is never mistaken for success.
    public var reportedCode: Int32 {
        switch self {
        case .exited(let code): code
        case .signaled(let signal): 128 + signal
        }
    }

    public var description: String {
        switch self {
        case .exited(let code): "exited with code \(code)"
        case .signaled(let signal): "terminated by signal \(signal)"
        }
    }
}
