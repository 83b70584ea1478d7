import DrillCore
import DrillLive
import Foundation
import Logging

/// The "production" PostgreSQL the tests take backups of: a real cluster (initdb + postgres, as an unprivileged user
/// when the tests run as root), started once per test process and stopped at exit.
public actor SourceDatabase {
    public static let shared = SourceDatabase()

    private var starting: Task<(EmbeddedCluster, TempFolder), any Error>?
    /// A login role with a password, reachable over TCP on 127.0.0.1 (scram-sha-256), for server-target tests.
    public static let passwordRole = (user: "drill_tester", password: "Pa55-w0rd-never-shown")

    /// Starts the cluster once; concurrent callers share the same start.
    public func start() async throws -> EmbeddedCluster {
        if starting == nil { starting = Task { try await Self.boot() } }
        return try await starting!.value.0
    }

    private static func boot() async throws -> (EmbeddedCluster, TempFolder) {
        let folder = TempFolder("src")
        guard let binaries = await PostgresBinaries.discover() else { throw DrillError(.noPostgres, "no PostgreSQL binaries") }
        let settings = ServerSettings.forRestore(profile: .fast, jobs: 2, memoryBytes: 2 << 30)
        // Production runs as postgres, not in drill's sandbox (the scratch clusters lease their own accounts).
        let c = try await EmbeddedCluster.start(name: "source", scratchRoot: folder.path, binaries: binaries,
                                                settings: settings, logger: Logger(label: "test-source"),
                                                account: .fixed(try RunAs.productionAccount()))
        ExitCleanup.register(pid: c.serverPID, paths: [c.root, c.socketDirectory, folder.path])
        let admin = try PGConnection(c.connection())
        defer { admin.close() }
        _ = try admin.execSync("CREATE ROLE \(passwordRole.user) LOGIN CREATEDB PASSWORD '\(passwordRole.password)'")
        return (c, folder)
    }

    /// Runs SQL (several statements allowed) in `database`, through psql so the tests use the real client.
    @discardableResult
    public func psql(_ sql: String, database: String = "postgres") async throws -> String {
        let c = try await start()
        let r = try await ChildProcess.run(ProcessSpec(
            executable: c.binaries.tool("psql"), arguments: ["-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql],
            environment: c.connection(database: database).environment, unsetEnvironment: ["PG*"]))
        guard r.succeeded else { throw DrillError(.restoreFailed, "psql failed: \(r.stderr)") }
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Creates a database `name` holding pgbench tables (scale 1: 100,000 accounts) and an `orders` table with
    /// `orders` rows created up to now.
    public func createShop(_ name: String, orders: Int = 1000) async throws {
        let c = try await start()
        try await psql("DROP DATABASE IF EXISTS \(name)")
        try await psql("CREATE DATABASE \(name)")
        let r = try await ChildProcess.run(ProcessSpec(
            executable: c.binaries.tool("pgbench"), arguments: ["-i", "-q", "-s", "1", "-I", "dtgp", name],
            environment: c.connection(database: name).environment, unsetEnvironment: ["PG*"]))
        guard r.succeeded else { throw DrillError(.restoreFailed, "pgbench -i failed: \(r.stderr)") }
        try await psql("""
            CREATE TABLE orders (id bigserial PRIMARY KEY, account int NOT NULL, created_at timestamptz NOT NULL);
            INSERT INTO orders (account, created_at) SELECT i, now() - (i || ' seconds')::interval FROM generate_series(1, \(orders)) i;
            GRANT SELECT ON orders TO \(Self.passwordRole.user);
            ALTER TABLE orders OWNER TO \(Self.passwordRole.user);
            """, database: name)
    }

    /// Runs `pg_dump` with the given format arguments into `path`; `environment` adds variables (a `TZ`).
    public func dump(_ database: String, to path: String, format: BackupFormat, environment: [String: String] = [:]) async throws {
        let c = try await start()
        var args = ["-d", database]
        switch format {
        case .custom: args += ["-Fc", "-f", path]
        case .directory: args += ["-Fd", "-f", path]
        case .tar: args += ["-Ft", "-f", path]
        case .plain: args += ["-Fp", "-f", path]
        case .plainGzip: args += ["-Fp", "-Z", "6", "-f", path]
        case .basebackup, .dumpall, .encoded: throw DrillError(.unsupported, "not a pg_dump format")
        }
        let r = try await ChildProcess.run(ProcessSpec(executable: c.binaries.tool("pg_dump"), arguments: args,
                                                       environment: c.connection(database: database).environment
                                                           .merging(environment) { $1 },
                                                       unsetEnvironment: ["PG*"]))
        guard r.succeeded else { throw DrillError(.restoreFailed, "pg_dump failed: \(r.stderr)") }
    }

    /// `postgresql://drill_tester:…@127.0.0.1:PORT/postgres`: a server target that needs a password.
    public func passwordURL() async throws -> String {
        let c = try await start()
        return "postgresql://\(Self.passwordRole.user):\(Self.passwordRole.password)@127.0.0.1:\(c.port)/postgres"
    }

    /// Names of databases on the source server.
    public func databases() async throws -> [String] {
        try await psql("SELECT datname FROM pg_database ORDER BY 1").split(separator: "\n").map(String.init)
    }
}

/// Stops what the test process started when it exits (atexit cannot await, so this is plain signals and unlinks).
public enum ExitCleanup {
    nonisolated(unsafe) private static var entries: [(Int32?, [String])] = []
    private static let lock = NSLock()
    nonisolated(unsafe) private static var installed = false

    public static func register(pid: Int32?, paths: [String]) {
        lock.withLock {
            entries.append((pid, paths))
            if !installed {
                installed = true
                atexit {
                    for (pid, paths) in ExitCleanup.entries {
                        if let pid {
                            kill(pid, SIGQUIT)
                            for _ in 0..<100 where kill(pid, 0) == 0 { usleep(20_000) }
                        }
                        for p in paths { try? FileManager.default.removeItem(atPath: p) }
                    }
                }
            }
        }
    }
}
