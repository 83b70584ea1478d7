import Foundation

/// Where a point-in-time recovery stops (`recovery.target` in a drill file).
public enum RecoveryTarget: Sendable, Equatable, CustomStringConvertible {
    /// Replay everything archived.
    case latest
    /// Stop at a time (`recovery_target_time`).
    case time(Date)
    /// A random time between the backup's end and the last archived commit, chosen by the drill and recorded (when no
    /// commit was archived after the backup's end there is nothing to choose from, and everything is replayed).
    case random

    /// `latest`, `random` or an RFC 3339 timestamp with an offset; nil otherwise.
    public init?(_ text: String) {
        switch text {
        case "latest": self = .latest
        case "random": self = .random
        default:
            guard let d = RFC3339.parse(text) else { return nil }
            self = .time(d)
        }
    }

    public var description: String {
        switch self {
        case .latest: "latest"
        case .random: "random"
        case .time(let d): RFC3339.format(d, fractional: true)
        }
    }

    /// The time recovery must stop at, or nil for `latest`. A target before the backup's end is a configuration
    /// error: PostgreSQL would silently stop at the first consistent point instead.
    ///
    /// - Parameters:
    ///   - backupEnd: when the base backup finished (recovery cannot stop earlier).
    ///   - archiveEnd: the last commit (or, failing that, the newest segment's time) in the archive, for `random`.
    ///   - unit: a random number in `0..<1` (injected so tests can choose it).
    public func resolve(backupEnd: Date, archiveEnd: Date?, unit: @Sendable () -> Double) throws -> Date? {
        switch self {
        case .latest:
            return nil
        case .time(let t):
            guard t >= backupEnd else {
                throw DrillError(.configuration,
                                 "recovery.target \(RFC3339.format(t, fractional: true)) is before the end of the base backup (\(RFC3339.format(backupEnd, fractional: true))): PostgreSQL cannot stop there and would silently ignore it; choose a later target or an older backup")
            }
            return t
        case .random:
            // No commit archived after the backup's end: there is no point to choose; replay everything.
            guard let end = archiveEnd, end > backupEnd else { return nil }
            let u = min(max(unit(), 0), 1)
            let t = backupEnd.addingTimeInterval(end.timeIntervalSince(backupEnd) * u)
            // Whole milliseconds: the value is recorded and written into postgresql.auto.conf as text.
            return Date(timeIntervalSince1970: (t.timeIntervalSince1970 * 1000).rounded(.down) / 1000)
        }
    }
}
