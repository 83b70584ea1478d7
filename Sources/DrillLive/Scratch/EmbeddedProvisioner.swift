import DrillCore
import Foundation
import Logging

/// Provisions the embedded default: a private cluster per drill, with a fresh database in it.
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
        let found: PostgresBinaries? = if let binaries { binaries } else { await PostgresBinaries.discover() }
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
            _ = try admin.execSync("ALTER DATABASE postgres RENAME TO \(PGConnection.quoteIdentifier(database))")
            let version = admin.serverVersion
            return EmbeddedScratch(cluster: cluster, database: database, serverVersion: version,
                                   settings: Dictionary(settings, uniquingKeysWith: { _, b in b }))
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

    public var kind: String { "embedded" }
    public var connection: ConnectionParameters { cluster.connection(database: database) }

    public func teardown() async -> TeardownResult { await cluster.teardown() }

    public var keepInstructions: String {
        "psql \"host=\(cluster.socketDirectory) port=\(cluster.port) user=\(cluster.superuser) dbname=\(database)\"" +
            "  (stop it with: kill -INT \(cluster.serverPID.map(String.init) ?? "<pid>"); then delete \(cluster.root)" +
            (cluster.socketDirectory.hasPrefix(cluster.root) ? "" : " and \(cluster.socketDirectory)") + ")"
    }
}
