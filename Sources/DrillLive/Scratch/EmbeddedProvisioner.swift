import DrillCore
import Foundation
import Logging

/// Provisions the embedded default: a private cluster per drill, with a fresh database in it, owned by the role the
/// restore and the checks connect as (`RestoreAs.ownerRole`, not a superuser) unless the drill's `restore.as` is
/// `superuser`.
public struct EmbeddedProvisioner: ScratchProvisioner {
    public var scratchRoot: String
    public var now: @Sendable () -> Date
    public var logger: Logger
    public var memoryBytes: UInt64
    /// The cache of fresh `initdb` data folders (nil: run `initdb` for every cluster).
    public var template: InitdbTemplate?
    /// The server programs, when already found (else they are looked for at each provisioning).
    public var binaries: PostgresBinaries?
    public init(scratchRoot: String, now: @escaping @Sendable () -> Date, logger: Logger,
                memoryBytes: UInt64 = ProcessInfo.processInfo.physicalMemory,
                template: InitdbTemplate? = nil, binaries: PostgresBinaries? = nil) {
        self.binaries = binaries
        self.scratchRoot = scratchRoot
        self.now = now
        self.logger = logger
        self.memoryBytes = memoryBytes
        self.template = template
    }

    public func provision(drill: DrillConfig, profile: RestoreProfile, jobs: Int) async throws -> any ScratchDatabase {
        try await provision(drill: drill, profile: profile, jobs: jobs, postgres: nil)
    }

    /// With `postgres` (chosen for the backup's version), its server programs run the cluster.
    public func provision(drill: DrillConfig, profile: RestoreProfile, jobs: Int, postgres: PostgresInstallation?) async throws -> any ScratchDatabase {
        let found: PostgresBinaries? = if let postgres { postgres.binaries } else if let binaries { binaries } else { await PostgresBinaries.discover() }
        guard let binaries = found else {
            throw DrillError(.noPostgres,
                             ProcessInfo.processInfo.environment["DRILL_PG_BINDIR"].map { "DRILL_PG_BINDIR=\($0) holds no initdb and postgres" }
                                 ?? "no PostgreSQL server binaries found (looked at pg_config --bindir, PATH, /usr/lib/postgresql/*/bin); install the postgresql package")
        }
        let settings = ServerSettings.forRestore(profile: profile, jobs: jobs, memoryBytes: memoryBytes)
        let cluster = try await EmbeddedCluster.start(name: drill.name, scratchRoot: scratchRoot, binaries: binaries,
                                                      settings: settings, template: template, logger: logger)
        let database = ScratchNaming.databaseName(drill: drill.name, at: now())
        do {
            // The cluster is new and ours: its empty `postgres` database (initdb's copy of template1, just what CREATE
            // DATABASE would make) becomes the scratch database by a rename, which saves CREATE DATABASE's block-by-block
            // copy of template1 (0.2–0.3 s here).
            let admin = try PGConnection(cluster.connection(database: "template1"))
            defer { admin.close() }
            let role: String? = drill.restore.restoreAs == .owner ? RestoreAs.ownerRole : nil
            if let role {
                // A login role with no attribute beyond LOGIN: no superuser, no CREATEROLE, no CREATEDB, no replication.
                _ = try admin.execSync("CREATE ROLE \(PGConnection.quoteIdentifier(role)) LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS")
            }
            _ = try admin.execSync("ALTER DATABASE postgres RENAME TO \(PGConnection.quoteIdentifier(database))")
            if let role {
                _ = try admin.execSync("ALTER DATABASE \(PGConnection.quoteIdentifier(database)) OWNER TO \(PGConnection.quoteIdentifier(role))")
                if (Int(admin.serverVersion.prefix { $0.isNumber }) ?? 15) < 15 {
                    // Before PostgreSQL 15 the public schema belongs to the bootstrap superuser; from 15 on to
                    // pg_database_owner, i.e. the role already.
                    let db = try PGConnection(cluster.connection(database: database))
                    defer { db.close() }
                    _ = try db.execSync("ALTER SCHEMA public OWNER TO \(PGConnection.quoteIdentifier(role))")
                }
            }
            let version = admin.serverVersion
            var reported = Dictionary(settings, uniquingKeysWith: { _, b in b })
            reported["restore.as"] = role.map { "owner (role \($0), not a superuser)" } ?? "superuser (\(cluster.superuser))"
            if let runAs = cluster.runAs { reported["server.account"] = runAs.user }
            return EmbeddedScratch(cluster: cluster, database: database, serverVersion: version, settings: reported, role: role)
        } catch {
            _ = await cluster.teardown()
            throw DrillError(.provisionFailed, "cannot create the scratch database: \(error)")
        }
    }
}

/// A database in an embedded cluster; teardown removes the whole cluster.
public struct EmbeddedScratch: ScratchDatabase {
    public let cluster: EmbeddedCluster
    public let database: String
    public let serverVersion: String
    public let settings: [String: String]
    /// The role the restore and the checks connect as; nil: the superuser (`restore.as: superuser`).
    public let role: String?

    public init(cluster: EmbeddedCluster, database: String, serverVersion: String, settings: [String: String], role: String? = nil) {
        self.cluster = cluster
        self.database = database
        self.serverVersion = serverVersion
        self.settings = settings
        self.role = role
    }

    public var kind: String { "embedded" }
    public var connection: ConnectionParameters { cluster.connection(database: database, user: role) }

    public func teardown() async -> TeardownResult { await cluster.teardown() }

    /// The cluster's superuser, over its private socket.
    public var adminConnection: ConnectionParameters? { cluster.connection(database: "template1") }

    /// How to reach the kept cluster. The runner asks for it only with `--keep`, so this is also where the cluster is
    /// told to outlive drill (TODO(phase 2): an explicit keep hook of the runner).
    public var keepInstructions: String {
        cluster.keepRunning()
        return "psql \"host=\(cluster.socketDirectory) port=\(cluster.port) user=\(cluster.superuser) dbname=\(database)\"" +
            "  (stop it with: kill -INT \(cluster.serverPID.map(String.init) ?? "<pid>"); then delete \(cluster.root)" +
            (cluster.socketDirectory.hasPrefix(cluster.root) ? "" : " and \(cluster.socketDirectory)") + ")"
    }
}
