import DrillCore
import Foundation
import Logging

/// Provisions a scratch database on a server the user gives (`target.url`). It creates
/// `drill_<drill>_<UTC timestamp>_<random>`, refuses to use a database that already exists, and drops only what it
/// created.
///
/// The restore runs as the URL's user, who owns the new database: drill creates no role on a server it does not own
/// (roles are shared by every database there, and one left behind by a killed drill would outlive it). So that user
/// must not be able to do what a hostile backup would want: a superuser, a member of `pg_execute_server_program`,
/// `pg_read_server_files` or `pg_write_server_files`, or (before PostgreSQL 16, where CREATEROLE can grant those) a
/// CREATEROLE user is refused unless the drill's `restore.as` is `superuser`.
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
        if drill.restore.restoreAs == .owner, let power = try Self.dangerousPrivilege(conn) {
            throw DrillError(.provisionFailed, "the target server's user \(admin.keywords["user"] ?? "(default)") \(power): SQL from the backup would run with that power on the server's host. drill restores as the URL's user and creates no role on a server it does not own: give a user with CREATEDB and nothing more, or, if the backups are trusted, set \"restore\": { \"as\": \"superuser\" } in the drill file")
        }
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

extension ServerProvisioner {
    /// What the connected user could do beyond its own database, nil when nothing.
    static func dangerousPrivilege(_ conn: PGConnection) throws -> String? {
        guard let row = try? conn.execSync("""
            SELECT rolsuper, rolcreaterole, current_setting('server_version_num')::int,
                   pg_has_role(current_user, 'pg_execute_server_program', 'USAGE'),
                   pg_has_role(current_user, 'pg_read_server_files', 'USAGE'),
                   pg_has_role(current_user, 'pg_write_server_files', 'USAGE')
            FROM pg_roles WHERE rolname = current_user
            """).first else {
            // Before PostgreSQL 11 there are no server-file roles: the superuser attribute is what counts.
            let sup = try conn.execSync("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").first?.first ?? nil
            return sup == "t" ? "is a superuser" : nil
        }
        func yes(_ i: Int) -> Bool { row.count > i && row[i] == "t" }
        if yes(0) { return "is a superuser" }
        if yes(3) { return "may run programs on the server (pg_execute_server_program)" }
        if yes(4) || yes(5) { return "may read or write the server's files (pg_read_server_files / pg_write_server_files)" }
        if yes(1), let version = row.count > 2 ? row[2].flatMap({ Int($0) }) : nil, version < 160000 {
            return "has CREATEROLE, which before PostgreSQL 16 can grant itself pg_execute_server_program"
        }
        return nil
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
