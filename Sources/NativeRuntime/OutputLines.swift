/// Which standard stream a line came from.
public enum StandardStream: Sendable, Hashable {
    /// Standard output: Nex logs these lines at INFO.
    case stdout
    /// Standard error: Nex logs these lines at ERROR.
    case stderr
}

/// One line a process wrote (or one piece of a line longer than the configured maximum).
public struct OutputLine: Sendable, Hashable {
    /// The stream the line was written to.
    public var stream: StandardStream
    /// The text, without its line terminator.
    public var line: String
    /// How many lines were dropped just before this one because the consumer fell behind (0 almost
    /// always); a consumer can log the gap instead of silently losing it.
    public var droppedBefore: Int

    public init(stream: StandardStream, line: String, droppedBefore: Int = 0) {
        self.stream = stream
        self.line = line
        self.droppedBefore = droppedBefore
    }
}

/// The output of a process as it is written, line by line; ends once the process is gone and its
/// pipes are drained.
///
/// Bounded: at most `OutputOptions.bufferedLines` lines wait for the consumer. Beyond that, new
/// lines are dropped (never the producing process blocked) and counted in the next delivered
/// line's `droppedBefore` and in `NativeProcess.droppedOutputLines`. Iterate it once.
public struct OutputLines: AsyncSequence, Sendable {
    public typealias Element = OutputLine
    public typealias Failure = Never

    let stream: AsyncStream<OutputLine>

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncStream<OutputLine>.AsyncIterator

        public mutating func next() async -> OutputLine? {
            await base.next()
        }

        public mutating func next(isolation actor: isolated (any Actor)?) async -> OutputLine? {
            await base.next(isolation: actor)
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: stream.makeAsyncIterator())
    }
}
