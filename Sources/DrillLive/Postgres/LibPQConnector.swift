import DrillCore
import Foundation

/// Opens read-only check sessions through libpq.
public struct LibPQConnector: DatabaseConnector {
    public init() {}

    public func connect(_ parameters: ConnectionParameters) async throws -> any QueryExecutor {
        var p = parameters
        p.keywords["application_name"] = "drill-checks"
        // Checks read timestamps in UTC and may not write.
        p.keywords["options"] = "-c TimeZone=UTC -c default_transaction_read_only=on"
        let conn: PGConnection
        do {
            conn = try PGConnection(p)
        } catch {
            throw DrillError(.connectionFailed, "cannot connect to the scratch database (\(p.display)): \(error)")
        }
        return LibPQExecutor(conn: conn)
    }
}

/// Runs each check in its own read-only transaction with a statement timeout.
final class LibPQExecutor: QueryExecutor, @unchecked Sendable {
    let conn: PGConnection

    init(conn: PGConnection) { self.conn = conn }

    func query(_ sql: String, timeout: DrillDuration) async throws -> QueryResult {
        _ = try await conn.query("BEGIN READ ONLY")
        do {
            _ = try await conn.query("SET LOCAL statement_timeout = \(max(1, timeout.seconds) * 1000)")
            let rows = try await conn.query(sql)
            _ = try? await conn.query("ROLLBACK")
            return QueryResult(rows: rows)
        } catch {
            _ = try? conn.execSync("ROLLBACK")
            throw error
        }
    }

    func close() async { conn.close() }
}
