/// Everything needed to start one native workload process.
///
/// The process inherits nothing from its parent: no environment variables beyond `environment`, no
/// descriptors beyond stdin (`/dev/null`), stdout and stderr (pipes read by the runtime), no signal
/// dispositions or mask.
public struct NativeProcessConfiguration: Sendable, Hashable {
    /// Absolute (or working-directory-relative) path of the executable; no `PATH` lookup is done.
    public var executable: String
    /// The arguments after `argv[0]` (which is always `executable`).
    public var arguments: [String]
    /// The complete environment of the process. Keys are passed exactly as given: any Nex rules
    /// (uppercasing, `NEX_HOSTSERVICES_*`) are applied by the caller.
    public var environment: [String: String]
    /// Directory to start in; `nil` keeps the parent's current directory.
    public var workingDirectory: String?
    /// How long `stop()` waits after SIGTERM before it sends SIGKILL to the process group.
    public var stopGracePeriod: Duration
    /// Limits on how output is split and buffered.
    public var output: OutputOptions

    /// Limits that keep a chatty or hostile process from growing the runtime's memory.
    public struct OutputOptions: Sendable, Hashable {
        /// Lines longer than this many bytes are delivered in pieces of at most this size.
        public var maxLineLength: Int
        /// How many lines may wait for the consumer. When the buffer is full, further lines are
        /// dropped and counted (see `OutputLine.droppedBefore`): a service must never stall because
        /// its logs are read slowly. At most `bufferedLines * maxLineLength` bytes are held.
        public var bufferedLines: Int

        public init(maxLineLength: Int = 16 * 1024, bufferedLines: Int = 512) {
            self.maxLineLength = max(maxLineLength, 4)
            self.bufferedLines = max(bufferedLines, 1)
        }
    }

    public init(
        executable: String,
        arguments: [String] = [],
        environment: [String: String] = [:],
        workingDirectory: String? = nil,
        stopGracePeriod: Duration = .seconds(5),
        output: OutputOptions = OutputOptions()
    ) {
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.stopGracePeriod = stopGracePeriod
        self.output = output
    }
}
