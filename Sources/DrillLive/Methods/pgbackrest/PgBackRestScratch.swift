import DrillCore
import Foundation

/// One restore from a pgBackRest repository: a scratch cluster whose data folder `pgbackrest restore` fills, a private
/// WAL folder drill fills with `pgbackrest archive-get` and `restore_command` copies from, and the recovery itself.
///
/// pgBackRest runs as drill's user (who can read the repository); the restored files are then handed to the scratch
/// server's user, which never runs pgBackRest, never reads the repository and never holds its credentials.
/// Teardown removes all of it.
public final class PgBackRestScratch: PgBackRestSession, @unchecked Sendable {
    public let cluster: EmbeddedCluster
    public let database: String
    public let walDirectory: String
    /// pgBackRest's lock folder for this restore (never the shared `/tmp/pgbackrest`).
    let lockPath: String
    /// Where every tablespace is restored (`--tablespace-map-all`): never production's paths.
    let tablespaces: String
    let cli: PgBackRestCLI
    private let lock = NSLock()
    private var _serverVersion = "unknown"
    private var recoverySettings: [(String, String)] = []

    init(cluster: EmbeddedCluster, database: String, cli: PgBackRestCLI) throws {
        self.cluster = cluster
        self.database = database
        self.cli = cli
        walDirectory = (cluster.root as NSString).appendingPathComponent("wal")
        lockPath = (cluster.root as NSString).appendingPathComponent("pgbackrest-lock")
        tablespaces = (cluster.root as NSString).appendingPathComponent("tablespaces")
        for dir in [cluster.dataDirectory, walDirectory, lockPath, tablespaces] {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false,
                                                    attributes: [.posixPermissions: 0o700])
        }
        if let runAs = cluster.runAs {
            for dir in [cluster.dataDirectory, walDirectory, tablespaces] { try runAs.chown(dir) }
        }
    }

    // MARK: ScratchDatabase

    public var kind: String { "embedded" }
    public var connection: ConnectionParameters { cluster.connection(database: database) }
    public var serverVersion: String { lock.withLock { _serverVersion } }
    public var settings: [String: String] {
        Dictionary(cluster.settings + lock.withLock { recoverySettings }, uniquingKeysWith: { _, b in b })
    }
    public func teardown() async -> TeardownResult { await cluster.teardown() }
    public var keepInstructions: String {
        "psql \"host=\(cluster.socketDirectory) port=\(cluster.port) user=\(cluster.superuser) dbname=\(database)\"" +
            "  (stop it with: kill -INT \(cluster.serverPID.map(String.init) ?? "<pid>"); then delete \(cluster.root)" +
            (cluster.socketDirectory.hasPrefix(cluster.root) ? "" : " and \(cluster.socketDirectory)") + ")"
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
        if let runAs = cluster.runAs {
            for dir in [data, tablespaces] {
                let c = await ChildProcess.runCancellable(ProcessSpec(executable: cluster.binaries.tool("chown"),
                                                                      arguments: ["-R", "\(runAs.uid):\(runAs.gid)", "--", dir]))
                try Task.checkCancellation()
                guard c.succeeded else {
                    throw DrillError(.restoreFailed, "handing the restored data folder to \(runAs.user) failed: \(lastError(c.stderr))")
                }
            }
        }
        chmod(data, 0o700)
        let auto = (data as NSString).appendingPathComponent("postgresql.auto.conf")
        if let text = FileManager.default.contents(atPath: auto).map({ String(decoding: $0, as: UTF8.self) }) {
            try AtomicFile.write(Data(PgBackRestInvocation.withoutToolRecoveryCommand(text).utf8), to: auto, mode: 0o600)
            if let runAs = cluster.runAs { try runAs.chown(auto) }
        }
        return PgBackRestRestoreOutcome(walSegmentSize: try await cluster.walSegmentSize(), toolSeconds: r.seconds)
    }


    // MARK: WAL

    public func fetchWAL(_ s: PgBackRestSettings, _ walName: String) async throws -> Int64? {
        let dest = (walDirectory as NSString).appendingPathComponent(walName)
        let partial = dest + ".drill-partial"
        try? FileManager.default.removeItem(atPath: partial)
        let r = try await cli.run(PgBackRestInvocation.archiveGet(s, walName: walName, destination: partial,
                                                                  dataDirectory: cluster.dataDirectory, lockPath: lockPath), s)
        // archive-get exits 1 when the repository does not have the file.
        if r.exitCode == 1 {
            try? FileManager.default.removeItem(atPath: partial)
            return nil
        }
        if !r.succeeded {
            try? FileManager.default.removeItem(atPath: partial)
            let code = PgBackRestInvocation.errorCode(in: r.stderr)
            let text = PgBackRestInvocation.errorText(r.stderr)
            if code == 29 || text.contains("checksum") || text.contains("zlib") {
                throw DrillError(.backupCorrupt, "pgbackrest archive-get \(walName) found the archived WAL damaged (\(r.summary)): \(text)")
            }
            try cli.check(r, "pgbackrest archive-get \(walName)", s, code: .backupUnreadable)
        }
        try? FileManager.default.removeItem(atPath: dest)
        try FileManager.default.moveItem(atPath: partial, toPath: dest)
        chmod(dest, 0o600)
        if let runAs = cluster.runAs { try runAs.chown(dest) }
        let size = (try? FileManager.default.attributesOfItem(atPath: dest)[.size] as? NSNumber)?.int64Value
        return size ?? 0
    }

    public func lastCommit(from: WALSegment, to: WALSegment) async -> Date? {
        let r = await ChildProcess.runCancellable(ProcessSpec(
            executable: cluster.binaries.tool("pg_waldump"),
            arguments: BaseBackupSession.walDumpArguments(walDirectory: walDirectory, from: from, to: to),
            environment: ["TZ": "UTC", "LC_ALL": "C"], unsetEnvironment: ["PG*"], stdout: .capture(limit: 4 << 20)))
        // pg_waldump exits non-zero at the end of the last segment; its output still counts.
        return WALDump.lastCommitTime(in: r.stdout)
    }

    // MARK: Recover

    public func recover(target: Date?) async throws -> RecoveryOutcome {
        let recovery = ClusterRecovery(cluster: cluster)
        let extra = try recovery.configure(recovery: PhysicalSettings.recovery(walDirectory: walDirectory, target: target))
        lock.withLock { recoverySettings = extra }
        let outcome = try await recovery.run(target: target, commandLine: Self.commandLine(cluster, configured: extra))
        lock.withLock { _serverVersion = outcome.serverVersion }
        return outcome
    }

    /// Settings on the restored server's command line, where production's `postgresql.conf` (restored with the backup,
    /// and whatever it includes) cannot override them: its own data folder (a `data_directory` line in production's
    /// file would point at production's), port, socket and no TCP, no archiving, and drill's private pg_hba/ident.
    public static func commandLine(_ cluster: EmbeddedCluster, configured: [(String, String)]) -> [(String, String)] {
        var s: [(String, String)] = [
            ("data_directory", cluster.dataDirectory), ("port", "\(cluster.port)"), ("unix_socket_directories", cluster.socketDirectory),
            ("listen_addresses", ""), ("archive_mode", "off"), ("archive_command", ""),
        ]
        s += configured.filter { $0.0 == "hba_file" || $0.0 == "ident_file" }
        return s
    }
}
