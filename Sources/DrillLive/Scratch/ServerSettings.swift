import DrillCore
import Foundation

/// Server settings of an embedded scratch cluster for a restore profile. Pure, so the choice is testable and reported.
public enum ServerSettings {
    /// Settings for `profile` with `jobs` parallel restore jobs on a machine with `memoryBytes` of RAM.
    public static func forRestore(profile: RestoreProfile, jobs: Int, memoryBytes: UInt64) -> [(String, String)] {
        let mib = memoryBytes / (1024 * 1024)
        let maintenance = max(64, min(1024, mib / UInt64(8 * max(1, jobs))))
        var s: [(String, String)] = [
            // Small on purpose: a restore barely uses shared buffers (COPY and the heap scans of index builds go through
            // small ring buffers; sorts use maintenance_work_mem), and a new server pays to map in a big pool. Measured
            // on the benchmark's 1 GB restore: 256 MB restored 9.1–10.8 s, 1–2 GB 11.0–12.3 s (docs/performance.md).
            ("shared_buffers", "256MB"),
            ("maintenance_work_mem", "\(maintenance)MB"),
            ("work_mem", "32MB"),
            ("max_wal_size", "8GB"),
            ("min_wal_size", "1GB"),
            ("checkpoint_timeout", "30min"),
            ("checkpoint_completion_target", "0.9"),
            ("wal_level", "minimal"),
            ("max_wal_senders", "0"),
            ("archive_mode", "off"),
            ("wal_buffers", "64MB"),
            ("autovacuum", "off"),
            ("max_connections", "\(20 + jobs * 2)"),
            ("max_parallel_maintenance_workers", "\(max(1, min(4, jobs)))"),
        ]
        switch profile {
        case .durable:
            s += [("fsync", "on"), ("synchronous_commit", "on"), ("full_page_writes", "on")]
        case .fast:
            s += [("fsync", "off"), ("synchronous_commit", "off"), ("full_page_writes", "off")]
        }
        return s
    }

    /// `postgresql.conf` lines.
    public static func render(_ settings: [(String, String)]) -> String {
        settings.map { "\($0.0) = '\($0.1.replacingOccurrences(of: "'", with: "''"))'" }.joined(separator: "\n") + "\n"
    }
}
