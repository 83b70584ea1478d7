import DrillCore
import Foundation
import Logging

/// Provisions a scratch database on a server the user gives (`target.url`). It creates
/// `drill_<drill>_<UTC timestamp>_<random>`, refuses to use a database that already exists, and drops only what it
/// created.
public struct ServerProvisioner: ScratchProvisioner {
    public var url: String
    public var now: @Sendable () -> Date
    /// Chooses the database name (injected so tests can force a collision).
    public var name: @Sendable (_ drill: String, _ at: Date) -> String
    public var logger: Logger

    public init(url: String, now: @escaping @Sendable () -> Date, logger: Logger,
                name: @escaping @Sendable (String, Date) -> String = { ScratchNaming.databaseName(drill: $0, at: $1) }) {
        self.url = url
        self.now = now
        self.name = name
        self.logger = logger
    }

    public func provision(drill: DrillConfig, profile: RestoreProfile, jobs: Int) async throws -> any ScratchDatabase {
        let admin = try ConnInfo.parse(url)
        let database = name(drill.name, now())
        let conn: PGConnection
        do {
            conn = try PGConnection(admin)
        } catch {
            throw DrillError(.connectionFailed, "cannot connect to the target server (\(admin.display)): \(Redact.connectionText("\(error)", secretsFrom: url))")
        }
        defer { conn.close() }
        let exists = try conn.execSync("SELECT 1 FROM pg_database WHERE datname = \(PGConnection.quoteLiteral(database))")
        if !exists.isEmpty {
            throw DrillError(.databaseExists, "database \(database) already exists on the target server: drill never restores into an existing database")
        }
        do {
            _ = try conn.execSync("CREATE DATABASE \(PGConnection.quoteIdentifier(database))")
        } catch let e as PGConnection.Failure where e.sqlState == "42P04" {
            throw DrillError(.databaseExists, "database \(database) already exists on the target server: drill never restores into an existing database")
        } catch {
            throw DrillError(.provisionFailed, "cannot create \(database) on the target server: \(error)")
        }
        logger.info("created scratch database", metadata: ["database": "\(database)", "server": "\(admin.display)"])
        return ServerScratch(admin: admin, database: database, serverVersion: conn.serverVersion)
    }
}

/// A database the drill created on a given server; teardown drops it (and nothing else).
public struct ServerScratch: ScratchDatabase {
    let admin: ConnectionParameters
    public let database: String
    public let serverVersion: String

    public var kind: String { "server" }
    public var settings: [String: String] { [:] }
    public var connection: ConnectionParameters { admin.with(database: database) }

    public func teardown() async -> TeardownResult {
        do {
            let conn = try PGConnection(admin)
            defer { conn.close() }
            _ = try conn.execSync("DROP DATABASE IF EXISTS \(PGConnection.quoteIdentifier(database)) WITH (FORCE)")
            let left = try conn.execSync("SELECT 1 FROM pg_database WHERE datname = \(PGConnection.quoteLiteral(database))")
            return left.isEmpty ? TeardownResult(removed: true, detail: "dropped \(database)")
                : TeardownResult(removed: false, detail: "\(database) still exists after DROP DATABASE")
        } catch {
            return TeardownResult(removed: false, detail: "cannot drop \(database): \(error)")
        }
    }

    public var keepInstructions: String { "psql \"\(connection.display)\"" }
}
