import DrillCore
import DrillLive
import Foundation
import Logging

/// Builds a WAL archive with a timeline switch, as a failover leaves behind: a copy of the source's archive, then a
/// cluster restored from a plain-format base backup that replays it, is promoted (timeline 2, `00000002.history`
/// archived), takes more writes and archives them into the same copy.
public enum FailoverArchive {
    /// - Parameters:
    ///   - backup: a plain-format (`-Fp`) base backup of the source, left untouched.
    ///   - archive: the source's archive, copied into `into`.
    ///   - sql: what the promoted cluster runs (in `database`) before its WAL is switched and archived.
    public static func make(backup: String, archive: String, into copy: String, scratch: String, database: String,
                            sql: String) async throws {
        let fm = FileManager.default
        try fm.copyItem(atPath: archive, toPath: copy)
        let runAs = try RunAs.productionAccount()
        if let runAs {
            try runAs.chown(copy)
            for name in try fm.contentsOfDirectory(atPath: copy) { try runAs.chown((copy as NSString).appendingPathComponent(name)) }
        }
        guard let binaries = await PostgresBinaries.discover() else { throw DrillError(.noPostgres, "no PostgreSQL binaries") }
        let cluster = try EmbeddedCluster.create(name: "failover", scratchRoot: scratch, binaries: binaries, settings: [],
                                                 logger: Logger(label: "test-failover"), account: .fixed(runAs))
        do {
            try fm.createDirectory(atPath: cluster.dataDirectory, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
            for name in try fm.contentsOfDirectory(atPath: backup) where name != "backup_manifest" {
                try fm.copyItem(atPath: (backup as NSString).appendingPathComponent(name),
                                toPath: (cluster.dataDirectory as NSString).appendingPathComponent(name))
            }
            _ = fm.createFile(atPath: (cluster.dataDirectory as NSString).appendingPathComponent("recovery.signal"), contents: nil)
            if let runAs {
                let r = try await ChildProcess.run(ProcessSpec(executable: "/bin/chown", arguments: ["-R", "\(runAs.uid):\(runAs.gid)", cluster.dataDirectory]))
                guard r.succeeded else { throw DrillError(.provisionFailed, "chown failed: \(r.stderr)") }
            }
            try cluster.writeConfiguration(to: "postgresql.auto.conf", extra: [
                ("restore_command", "cp '\(copy)/%f' '%p'"), ("recovery_target_timeline", "latest"), ("hot_standby", "off"),
                ("archive_mode", "on"), ("archive_command", "test ! -f '\(copy)/%f' && cp '%p' '\(copy)/%f'"),
            ])
            try await cluster.launch(readyWithin: 120)
            let conn = try PGConnection(cluster.connection(database: database))
            defer { conn.close() }
            while try conn.execSync("SELECT pg_is_in_recovery()").first?.first ?? nil == "t" { try await Task.sleep(for: .milliseconds(50)) }
            for statement in sql.split(separator: ";").map({ $0.trimmingCharacters(in: .whitespacesAndNewlines) }) where !statement.isEmpty {
                _ = try conn.execSync(statement)
            }
            let segment = try conn.execSync("SELECT pg_walfile_name(pg_switch_wal())").first?.first ?? nil
            let deadline = Date().addingTimeInterval(30)
            while Date() < deadline {
                let last = try conn.execSync("SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver").first?.first ?? nil
                if let last, let segment, last >= segment { break }
                try await Task.sleep(for: .milliseconds(50))
            }
        } catch {
            _ = await cluster.teardown()
            throw error
        }
        _ = await cluster.teardown()
    }
}
