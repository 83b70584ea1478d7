import DrillCore
import Foundation

/// The last step of every physical restore (basebackup, pgBackRest, Barman): a scratch cluster whose data folder holds
/// a restored backup is configured for archive recovery, started, and waited on until recovery has finished and the
/// server is promoted.
public struct ClusterRecovery: Sendable {
    public let cluster: EmbeddedCluster

    public init(cluster: EmbeddedCluster) { self.cluster = cluster }

    /// Writes drill's recovery configuration and returns the settings it added (for the report): a private
    /// `pg_hba.conf` (the backup's is production's: socket only, trust; the socket folder is 0700), no `standby.signal`
    /// (a standby's would make the copy wait for more WAL forever), `recovery.signal`, and the cluster's settings plus
    /// `recovery` (restore_command, targets) appended to `postgresql.auto.conf`, where later lines override whatever
    /// the backed-up cluster or the backup tool wrote.
    public func configure(recovery: [(String, String)]) throws -> [(String, String)] {
        let fm = FileManager.default
        let data = cluster.dataDirectory
        let hba = (cluster.root as NSString).appendingPathComponent("pg_hba.conf")
        let ident = (cluster.root as NSString).appendingPathComponent("pg_ident.conf")
        try AtomicFile.write(Data("local all all trust\n".utf8), to: hba, mode: 0o600)
        try AtomicFile.write(Data(), to: ident, mode: 0o600)
        try? fm.removeItem(atPath: (data as NSString).appendingPathComponent("standby.signal"))
        let signal = (data as NSString).appendingPathComponent("recovery.signal")
        try AtomicFile.write(Data(), to: signal, mode: 0o600)
        let conf = (data as NSString).appendingPathComponent("postgresql.conf")
        if !fm.fileExists(atPath: conf) { try AtomicFile.write(Data(), to: conf, mode: 0o600) }
        if let runAs = cluster.runAs {
            for p in [hba, ident, signal, conf] { try runAs.chown(p) }
        }
        let extra = recovery + [("hba_file", hba), ("ident_file", ident)]
        try cluster.writeConfiguration(to: "postgresql.auto.conf", extra: extra)
        return extra
    }

    /// Starts the configured cluster and waits until it is promoted (as long as the server keeps running: a recovery
    /// can take hours). `target` only words the error when recovery stops short of it. `commandLine` settings go on
    /// the server's command line, above anything the restored configuration files say.
    public func run(target: Date?, commandLine: [(String, String)] = []) async throws -> RecoveryOutcome {
        do {
            try await cluster.launch(readyWithin: nil, commandLine: commandLine)
        } catch let e as DrillError {
            let log = cluster.readLog()
            if log.contains("recovery ended before configured recovery target was reached") {
                throw DrillError(.recoveryFailed,
                                 "The recovery target \(target.map { RFC3339.format($0, fractional: true) } ?? "") is past the end of the archived WAL: PostgreSQL replayed everything and reports \"recovery ended before configured recovery target was reached\".")
            }
            throw DrillError(.recoveryFailed, "the restored cluster did not finish recovery: \(e.message)")
        }
        let conn: PGConnection
        do { conn = try PGConnection(cluster.connection()) } catch {
            throw DrillError(.recoveryFailed, "cannot connect to the restored cluster as \(cluster.superuser): \(error)")
        }
        defer { conn.close() }
        // hot_standby is off, so connections are accepted only after recovery; check anyway (promotion is asynchronous).
        let deadline = Date().addingTimeInterval(120)
        while try conn.execSync("SELECT pg_is_in_recovery()").first?.first ?? nil == "t" {
            try Task.checkCancellation()
            if Date() > deadline { throw DrillError(.recoveryFailed, "the restored cluster is still in recovery after promotion was due") }
            try await Task.sleep(for: .milliseconds(100))
        }
        let row = try conn.execSync("""
            SELECT extract(epoch FROM pg_last_xact_replay_timestamp())::text, pg_last_wal_replay_lsn()::text,
                   substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)
            """).first ?? []
        let commit = (row.first ?? nil).flatMap(Double.init).map { Date(timeIntervalSince1970: $0) }
        let timeline = (row.count > 2 ? row[2] : nil).flatMap { UInt32($0, radix: 16) }
        return RecoveryOutcome(lastReplayedCommit: commit, replayLSN: row.count > 1 ? row[1] : nil, timeline: timeline,
                               serverVersion: conn.serverVersion)
    }
}
