import DrillCore
import DrillLive
import Foundation
import Logging

/// A "production" cluster with WAL archiving on (`wal_level = replica`, `archive_mode = on`, an `archive_command`
/// copying into a test folder), for physical backup tests. Started once per test process, stopped at exit.
public actor PhysicalSource {
    public static let shared = PhysicalSource()

    /// A source of one's own (its own cluster and WAL archive), for a suite that must not disturb the shared one's
    /// archive while other suites compare it before and after.
    public init() {
        binaries = { nil }
        extraSettings = []
    }

    /// A source run by other PostgreSQL programs (`PostgreSQL18`), with settings added (e.g. `summarize_wal`).
    public init(binaries: @escaping @Sendable () throws -> PostgresBinaries, settings: [(String, String)] = []) {
        self.binaries = binaries
        extraSettings = settings
    }

    private let binaries: @Sendable () throws -> PostgresBinaries?
    private let extraSettings: [(String, String)]
    private var starting: Task<(EmbeddedCluster, TempFolder), any Error>?

    /// The cluster's connection and the folder its `archive_command` writes into.
    public func start() async throws -> (cluster: EmbeddedCluster, archive: String) {
        if starting == nil {
            let binaries = self.binaries, extra = extraSettings
            starting = Task { try await Self.boot(binaries: try binaries(), extra: extra) }
        }
        let (c, folder) = try await starting!.value
        return (c, (folder.path as NSString).appendingPathComponent("archive"))
    }

    private static func boot(binaries given: PostgresBinaries?, extra: [(String, String)]) async throws -> (EmbeddedCluster, TempFolder) {
        let folder = TempFolder("psrc")
        let archive = folder.sub("archive")
        if let runAs = try RunAs.productionAccount() { try runAs.chown(archive) }
        let found: PostgresBinaries? = if let given { given } else { await PostgresBinaries.discover() }
        guard let binaries = found else { throw DrillError(.noPostgres, "no PostgreSQL binaries") }
        // The scratch defaults (wal_level = minimal, archive_mode = off) are overridden: later settings win.
        let settings = ServerSettings.forRestore(profile: .fast, jobs: 2, memoryBytes: 2 << 30) + [
            ("wal_level", "replica"), ("max_wal_senders", "4"), ("archive_mode", "on"),
            ("archive_command", "test ! -f '\(archive)/%f' && cp '%p' '\(archive)/%f'"),
            ("fsync", "on"), ("synchronous_commit", "on"), ("full_page_writes", "on"), ("log_timezone", "UTC"),
        ] + extra
        // Production runs as postgres (and owns its archive), not in drill's sandbox.
        let c = try await EmbeddedCluster.start(name: "psource", scratchRoot: folder.path, binaries: binaries,
                                                settings: settings, logger: Logger(label: "test-physical-source"),
                                                account: .fixed(try RunAs.productionAccount()))
        ExitCleanup.register(pid: c.serverPID, paths: [c.root, c.socketDirectory, folder.path])
        return (c, folder)
    }

    /// Runs SQL through psql and returns its unaligned output.
    @discardableResult
    public func psql(_ sql: String, database: String = "postgres") async throws -> String {
        let (c, _) = try await start()
        let r = try await ChildProcess.run(ProcessSpec(
            executable: c.binaries.tool("psql"), arguments: ["-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql],
            environment: c.connection(database: database).environment, unsetEnvironment: ["PG*"]))
        guard r.succeeded else { throw DrillError(.restoreFailed, "psql failed: \(r.stderr)") }
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Creates `database` with a table `ledger (id, batch, note, created_at)` if it does not exist yet.
    public func createLedger(_ database: String) async throws {
        let exists = try await psql("SELECT 1 FROM pg_database WHERE datname = '\(database)'")
        if exists.isEmpty {
            try await psql("CREATE DATABASE \(database)")
            try await psql("CREATE TABLE ledger (id bigserial PRIMARY KEY, batch text NOT NULL, note text, created_at timestamptz NOT NULL DEFAULT clock_timestamp())",
                           database: database)
        }
    }

    /// Inserts `rows` rows of `batch` in one transaction; returns the time just after it committed.
    @discardableResult
    public func insert(batch: String, rows: Int, into database: String) async throws -> Date {
        try await psql("INSERT INTO ledger (batch, note) SELECT '\(batch)', repeat('x', 200) FROM generate_series(1, \(rows))",
                       database: database)
        let text = try await psql("SELECT extract(epoch FROM clock_timestamp())::text")
        return Date(timeIntervalSince1970: Double(text)!)
    }

    /// The commit time of the newest row of `batch` (its `created_at` is taken just before the commit).
    public func lastRowTime(batch: String, in database: String) async throws -> Date {
        let text = try await psql("SELECT extract(epoch FROM max(created_at))::text FROM ledger WHERE batch = '\(batch)'", database: database)
        return Date(timeIntervalSince1970: Double(text)!)
    }

    /// Closes the current WAL segment and waits until the archiver has copied it. Returns the segment's name.
    @discardableResult
    public func switchWAL() async throws -> String {
        let name = try await psql("SELECT pg_walfile_name(pg_switch_wal())")
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let last = try await psql("SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver")
            if last >= name { return name }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw DrillError(.restoreFailed, "the archiver did not archive \(name) within 30 s")
    }

    /// Runs `pg_basebackup` into `directory` (created by it) with extra arguments (e.g. `-Ft`, `-z`, `-Fp`).
    public func baseBackup(into directory: String, _ arguments: [String]) async throws {
        let (c, _) = try await start()
        let r = try await ChildProcess.run(ProcessSpec(
            executable: c.binaries.tool("pg_basebackup"),
            arguments: ["-D", directory, "-c", "fast", "-X", "stream", "--no-password"] + arguments,
            environment: c.connection().environment, unsetEnvironment: ["PG*"]))
        guard r.succeeded else { throw DrillError(.restoreFailed, "pg_basebackup failed: \(r.stderr)") }
    }

    /// Names in the archive folder, sorted.
    /// A fresh `pitr` ledger database and a `pg_basebackup` of it (with `format`'s arguments) in
    /// `<folder>/backups/base`; returns the `backups` folder, the drill's `backup.location`.
    public func freshBaseBackup(in folder: TempFolder, _ format: [String]) async throws -> String {
        let backups = folder.sub("backups")
        try await createLedger("pitr")
        try await baseBackup(into: (backups as NSString).appendingPathComponent("base"), format)
        return backups
    }

    /// The archive's files once the source's archiver has caught up (no segment still waiting as `.ready`): the
    /// archiver copies asynchronously, so a listing taken right after a base backup could miss files the source itself
    /// archives a moment later, and a before/after comparison would blame the drill for them.
    public func archiveListing() async throws -> [String] {
        let (_, archive) = try await start()
        for _ in 0..<200 {
            let pending = try await psql("SELECT count(*) FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready'")
            if pending == "0" { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        return try FileManager.default.contentsOfDirectory(atPath: archive).sorted()
    }
}
