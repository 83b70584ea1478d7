import DrillCore
import DrillLive
import Foundation
import Logging

/// A "production" cluster for the Barman fixtures: WAL level replica, a `ledger` table, psql through the real client.
/// Started by `BarmanCloudSource` and `BarmanServerSource` (one each per test process), stopped at exit.
public struct BarmanProduction: Sendable {
    public let cluster: EmbeddedCluster
    /// Kept alive with the cluster (a `TempFolder` deletes itself when released).
    public let folder: TempFolder

    /// Starts a cluster under `folder` with `extra` settings (later ones win) and registers it for exit cleanup.
    static func boot(name: String, folder: TempFolder, extra: [(String, String)]) async throws -> BarmanProduction {
        guard let binaries = await PostgresBinaries.discover() else { throw DrillError(.noPostgres, "no PostgreSQL binaries") }
        let settings = ServerSettings.forRestore(profile: .fast, jobs: 2, memoryBytes: 2 << 30) + [
            ("shared_buffers", "64MB"), ("wal_level", "replica"), ("max_wal_senders", "4"), ("max_replication_slots", "4"),
            ("fsync", "on"), ("synchronous_commit", "on"), ("full_page_writes", "on"), ("log_timezone", "UTC"),
            ("timezone", "UTC"), ("min_wal_size", "80MB"), ("max_wal_size", "1GB"),
        ] + extra
        // Production runs as postgres (and listens on 127.0.0.1 for barman's streaming), not in drill's sandbox.
        let c = try await EmbeddedCluster.start(name: name, scratchRoot: folder.path, binaries: binaries, settings: settings,
                                                logger: Logger(label: "test-\(name)"), account: .fixed(try RunAs.productionAccount()))
        ExitCleanup.register(pid: c.serverPID, paths: [c.root, c.socketDirectory, folder.path])
        return BarmanProduction(cluster: c, folder: folder)
    }

    /// Runs SQL through psql and returns its unaligned output.
    @discardableResult
    public func psql(_ sql: String, database: String = "postgres") async throws -> String {
        let r = try await ChildProcess.run(ProcessSpec(
            executable: cluster.binaries.tool("psql"), arguments: ["-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql],
            environment: cluster.connection(database: database).environment, unsetEnvironment: ["PG*"]))
        guard r.succeeded else { throw FixtureError("psql failed: \(r.stderr)") }
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Creates `database` with a table `ledger (id, batch, note, created_at)`.
    func createLedger(_ database: String) async throws {
        try await psql("CREATE DATABASE \(database)")
        try await psql("CREATE TABLE ledger (id bigserial PRIMARY KEY, batch text NOT NULL, note text, created_at timestamptz NOT NULL DEFAULT clock_timestamp())",
                       database: database)
    }

    /// Inserts `rows` rows of `batch` in one transaction; returns the commit time of its newest row.
    @discardableResult
    public func insert(batch: String, rows: Int, into database: String) async throws -> Date {
        try await psql("INSERT INTO ledger (batch, note) SELECT '\(batch)', repeat('x', 200) FROM generate_series(1, \(rows))",
                       database: database)
        let text = try await psql("SELECT extract(epoch FROM max(created_at))::text FROM ledger WHERE batch = '\(batch)'", database: database)
        return Date(timeIntervalSince1970: Double(text)!)
    }

    /// Closes the current WAL segment; returns its name.
    func switchWAL() async throws -> String { try await psql("SELECT pg_walfile_name(pg_switch_wal())") }

    /// Runs a program as the server's user (it can read the data folder and reach the private socket).
    func runAsServerUser(_ executable: String, _ arguments: [String], environment: [String: String]) async throws -> ProcessResult {
        let (exe, argv) = cluster.runAs?.wrap(executable, arguments) ?? (executable, arguments)
        return try await ChildProcess.run(ProcessSpec(executable: exe, arguments: argv, environment: environment,
                                                      unsetEnvironment: ["PG*", "AWS_*"], workingDirectory: "/",
                                                      stdout: .capture(limit: 1 << 20), stderr: .capture(limit: 1 << 20)))
    }

    /// Waits until `condition` holds (checked every 100 ms), at most `seconds`.
    static func waitUntil(_ what: String, seconds: Double = 60, _ condition: () async throws -> Bool) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw FixtureError("timed out after \(Int(seconds)) s waiting for \(what)")
    }

    /// `name: sha256` of every file under `root` (relative paths, sorted), skipping what `skip` says.
    public static func digests(under root: String, skip: (String) -> Bool = { _ in false }) throws -> [String] {
        let fm = FileManager.default
        var out: [String] = []
        guard let e = fm.enumerator(atPath: root) else { return [] }
        while let rel = e.nextObject() as? String {
            guard e.fileAttributes?[.type] as? FileAttributeType == .typeRegular, !skip(rel) else { continue }
            let (hex, _) = try SHA256Hasher.hex(ofFile: (root as NSString).appendingPathComponent(rel))
            out.append("\(rel): \(hex)")
        }
        return out.sorted()
    }
}
