import DrillCore
import DrillLive
import Foundation
import Logging

/// A private "production" cluster with WAL archiving on, for one test (the shared `PhysicalSource` serves tests that
/// reason about its archive together; a test that writes a lot of WAL or kills drills mid-replay uses its own).
/// It runs as `postgres`, as production does. `stop()` removes it.
public final class ArchivingCluster: Sendable {
    public let cluster: EmbeddedCluster
    /// The folder its `archive_command` copies segments into.
    public let archive: String
    private let folder: TempFolder

    private init(cluster: EmbeddedCluster, archive: String, folder: TempFolder) {
        self.cluster = cluster
        self.archive = archive
        self.folder = folder
    }

    public static func start(_ label: String = "arch") async throws -> ArchivingCluster {
        let folder = TempFolder(label)
        let archive = folder.sub("archive")
        let account = try RunAs.productionAccount()
        if let account { try account.chown(archive) }
        guard let binaries = await PostgresBinaries.discover() else { throw DrillError(.noPostgres, "no PostgreSQL binaries") }
        let settings = ServerSettings.forRestore(profile: .fast, jobs: 2, memoryBytes: 2 << 30) + [
            ("wal_level", "replica"), ("max_wal_senders", "4"), ("archive_mode", "on"),
            ("archive_command", "test ! -f '\(archive)/%f' && cp '%p' '\(archive)/%f'"), ("log_timezone", "UTC"),
        ]
        let c = try await EmbeddedCluster.start(name: label, scratchRoot: folder.path, binaries: binaries, settings: settings,
                                                logger: Logger(label: "test-archiving"), account: .fixed(account))
        ExitCleanup.register(pid: c.serverPID, paths: [c.root, c.socketDirectory, folder.path])
        return ArchivingCluster(cluster: c, archive: archive, folder: folder)
    }

    /// Runs SQL through psql and returns its unaligned output.
    @discardableResult
    public func psql(_ sql: String, database: String = "postgres") async throws -> String {
        let r = try await ChildProcess.run(ProcessSpec(
            executable: cluster.binaries.tool("psql"), arguments: ["-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql],
            environment: cluster.connection(database: database).environment, unsetEnvironment: ["PG*"]))
        guard r.succeeded else { throw DrillError(.restoreFailed, "psql failed: \(r.stderr)") }
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// `pg_basebackup -D directory` with extra arguments.
    public func baseBackup(into directory: String, _ arguments: [String]) async throws {
        let r = try await ChildProcess.run(ProcessSpec(
            executable: cluster.binaries.tool("pg_basebackup"),
            arguments: ["-D", directory, "-c", "fast", "-X", "stream", "--no-password"] + arguments,
            environment: cluster.connection().environment, unsetEnvironment: ["PG*"]))
        guard r.succeeded else { throw DrillError(.restoreFailed, "pg_basebackup failed: \(r.stderr)") }
    }

    /// Closes the current WAL segment and waits until it is archived.
    public func switchWAL() async throws {
        let name = try await psql("SELECT pg_walfile_name(pg_switch_wal())")
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if try await psql("SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver") >= name { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw DrillError(.restoreFailed, "the archiver did not archive \(name) within 60 s")
    }

    public func stop() async {
        _ = await cluster.teardown()
        folder.remove()
    }
}
