import DrillCore
import Foundation

/// Server settings of a cluster restored from a base backup. Unlike a fresh scratch cluster, it must keep the source's
/// `wal_level`, `max_connections` and friends (recovery refuses lower values), so only safe settings are overridden.
public enum PhysicalSettings {
    public static func forRecovery(profile: RestoreProfile, memoryBytes: UInt64) -> [(String, String)] {
        let mib = memoryBytes / (1024 * 1024)
        var s: [(String, String)] = [
            // No TCP: the restored cluster's roles and pg_hba.conf are production's; only the private socket is used.
            ("listen_addresses", ""),
            ("shared_buffers", "\(max(128, min(2048, mib / 8)))MB"),
            // Connections are refused until recovery has finished and the server is promoted.
            ("hot_standby", "off"),
            // Never write into the production WAL archive, never run production's recovery hooks.
            ("archive_mode", "off"), ("archive_command", ""), ("archive_cleanup_command", ""),
            ("recovery_end_command", ""), ("primary_conninfo", ""), ("primary_slot_name", ""),
            ("ssl", "off"), ("log_destination", "stderr"), ("cluster_name", "drill-scratch"),
        ]
        switch profile {
        case .durable: s += [("fsync", "on"), ("synchronous_commit", "on")]
        case .fast: s += [("fsync", "off"), ("synchronous_commit", "off")]
        }
        return s
    }

    /// The recovery settings: `restore_command` copies from the drill's private WAL folder, which holds exactly the
    /// segments fetched (and gap-checked) before the start.
    public static func recovery(walDirectory: String, target: Date?) -> [(String, String)] {
        recovery(restoreCommand: "cp \(shellQuote(walDirectory.replacingOccurrences(of: "%", with: "%%")))/\"%f\" \"%p\"", target: target)
    }

    /// The recovery settings when WAL is fetched while replay runs: `restore_command` is drill's waiting script
    /// (`WALWaitScript`), which still only reads the private WAL folder.
    public static func recovery(waitScript: String, target: Date?) -> [(String, String)] {
        recovery(restoreCommand: "\(shellQuote(waitScript.replacingOccurrences(of: "%", with: "%%"))) \"%f\" \"%p\"", target: target)
    }

    static func recovery(restoreCommand: String, target: Date?) -> [(String, String)] {
        var s: [(String, String)] = [
            ("restore_command", restoreCommand),
            ("recovery_target_timeline", "latest"),
        ]
        if let target {
            s += [("recovery_target_time", postgresTime(target)), ("recovery_target_inclusive", "on"),
                  ("recovery_target_action", "promote")]
        }
        return s
    }

    /// Single-quotes a path for the shell PostgreSQL runs `restore_command` with.
    static func shellQuote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    /// `2026-11-28 07:30:00.123+00`: explicit UTC offset, as recovery_target_time requires.
    static func postgresTime(_ d: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd HH:mm:ss.SSS"
        return f.string(from: d) + "+00"
    }
}
