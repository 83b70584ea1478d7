import DrillCore
import Foundation

/// One restore from a pgBackRest repository: a scratch cluster whose data folder `pgbackrest restore` fills, a private
/// WAL folder drill fills with `pgbackrest archive-get` (several at once, while the server replays) and
/// `restore_command` reads, and the recovery itself.
///
/// pgBackRest runs as drill's user (who can read the repository); the restored files are then handed to the scratch
/// server's user, which never runs pgBackRest, never reads the repository and never holds its credentials.
/// Teardown removes all of it.
public final class PgBackRestScratch: ToolRestoredSession, PgBackRestSession, @unchecked Sendable {
    /// pgBackRest's lock folder for this restore (never the shared `/tmp/pgbackrest`).
    let lockPath: String
    /// Where every tablespace is restored (`--tablespace-map-all`): never production's paths.
    let tablespaces: String
    let cli: PgBackRestCLI

    init(session: BaseBackupSession, cli: PgBackRestCLI) throws {
        self.cli = cli
        let cluster = session.cluster
        lockPath = (cluster.root as NSString).appendingPathComponent("pgbackrest-lock")
        tablespaces = (cluster.root as NSString).appendingPathComponent("tablespaces")
        for dir in [lockPath, tablespaces] {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false,
                                                    attributes: [.posixPermissions: 0o700])
        }
        if let runAs = cluster.runAs { try runAs.chown(tablespaces) }
        super.init(session: session, logger: cli.logger)
    }

    // MARK: Restore

    public func restore(_ s: PgBackRestSettings, set: String, target: Date?) async throws -> PgBackRestRestoreOutcome {
        let data = cluster.dataDirectory
        let args = PgBackRestInvocation.restore(s, set: set, dataDirectory: data, tablespaces: tablespaces, target: target,
                                                lockPath: lockPath)
        let r = try await cli.run(args, s)
        if !r.succeeded {
            let code = PgBackRestInvocation.errorCode(in: r.stderr)
            let text = PgBackRestInvocation.errorText(r.stderr)
            // 029 (FormatError: zlib, checksum), 041/055 (a missing file): the backup in the repository is damaged.
            if let code, [29, 41, 55].contains(code) || text.contains("checksum") || text.contains("zlib") {
                throw DrillError(.backupCorrupt, "pgbackrest restore of \(set) found the backup damaged (\(r.summary)): \(text)")
            }
            try cli.check(r, "pgbackrest restore of \(set)", s, code: .restoreFailed)
        }
        // pgBackRest restores ownership as the backup recorded it (as root) or as drill's user: hand everything to the
        // scratch server's user.
        try await handOver([tablespaces])
        let auto = (data as NSString).appendingPathComponent("postgresql.auto.conf")
        if let text = FileManager.default.contents(atPath: auto).map({ String(decoding: $0, as: UTF8.self) }) {
            try AtomicFile.write(Data(PgBackRestInvocation.withoutToolRecoveryCommand(text).utf8), to: auto, mode: 0o600)
            if let runAs = cluster.runAs { try runAs.chown(auto) }
        }
        return PgBackRestRestoreOutcome(walSegmentSize: try await cluster.walSegmentSize(), toolSeconds: r.seconds)
    }


    // MARK: WAL

    public func deliverWAL(_ s: PgBackRestSettings, _ files: [WALArchive.File], options: WALDeliveryOptions) async throws -> Int64 {
        try await deliver(files, options: options) { [self] file, incoming in
            try await archiveGet(s, file.walName, into: incoming)
        }
    }

    /// Runs `pgbackrest archive-get` for one WAL file into `folder`; returns its size.
    func archiveGet(_ s: PgBackRestSettings, _ walName: String, into folder: String) async throws -> Int64 {
        let dest = (folder as NSString).appendingPathComponent(walName)
        try? FileManager.default.removeItem(atPath: dest)
        let r = try await cli.run(PgBackRestInvocation.archiveGet(s, walName: walName, destination: dest,
                                                                  dataDirectory: cluster.dataDirectory, lockPath: lockPath), s)
        guard r.succeeded else {
            try? FileManager.default.removeItem(atPath: dest)
            // archive-get exits 1 when the repository does not have the file.
            if r.exitCode == 1 {
                throw DrillError(.walGap, "pgbackrest archive-get finds no \(walName) in the repository, though repo-ls listed it")
            }
            let code = PgBackRestInvocation.errorCode(in: r.stderr)
            let text = PgBackRestInvocation.errorText(r.stderr)
            if code == 29 || text.contains("checksum") || text.contains("zlib") {
                throw DrillError(.backupCorrupt, "pgbackrest archive-get \(walName) found the archived WAL damaged (\(r.summary)): \(text)")
            }
            try cli.check(r, "pgbackrest archive-get \(walName)", s, code: .backupUnreadable)
            return 0
        }
        return (try? FileManager.default.attributesOfItem(atPath: dest)[.size] as? NSNumber)?.int64Value ?? 0
    }
}
