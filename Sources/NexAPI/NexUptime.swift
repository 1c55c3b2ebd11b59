/// The duration texts of the control interface.
public enum NexUptime {
    /// nats-server's `myUptime` format, as the 0.x node uses for `uptime`: `1y2d3h4m5s`, `2d3h4m5s`,
    /// `3h4m5s`, `4m5s` or `5s` (whole seconds, the largest unit first, years of 365 days).
    public static func format(_ duration: Duration) -> String {
        let totalSeconds = max(0, duration.components.seconds)
        let minutes = totalSeconds / 60, hours = minutes / 60, days = hours / 24, years = days / 365
        if years > 0 { return "\(years)y\(days % 365)d\(hours % 24)h\(minutes % 60)m\(totalSeconds % 60)s" }
        if days > 0 { return "\(days)d\(hours % 24)h\(minutes % 60)m\(totalSeconds % 60)s" }
        if hours > 0 { return "\(hours)h\(minutes % 60)m\(totalSeconds % 60)s" }
        if minutes > 0 { return "\(minutes)m\(totalSeconds % 60)s" }
        return "\(totalSeconds)s"
    }

    /// The `runtime` of a function workload from its cumulative execution time: `<n>ns` under
    /// 1000 ns, `<n>ms` under 1000 ms, otherwise ``format(_:)``.
    public static func runtime(nanoseconds: Int64) -> String {
        if nanoseconds < 1000 { return "\(nanoseconds)ns" }
        if nanoseconds < 1_000_000_000 { return "\(nanoseconds / 1_000_000)ms" }
        return format(.nanoseconds(nanoseconds))
    }

    /// The `runtime` of a service: `--`.
    public static let serviceRuntime = "--"
}
