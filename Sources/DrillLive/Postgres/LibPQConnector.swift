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

/// Runs each check in its own read-only transaction with a statement timeout, through a cursor so that only the
/// first row crosses the wire: `DECLARE … CURSOR FOR <sql>`, `FETCH 1` (the value), `MOVE n` (rows counted by the
/// server, not sent). A statement that cannot be a cursor's query (`SHOW`, `EXPLAIN`) runs as it is; its result is
/// bounded by its nature, and only its first value and row count are kept.
final class LibPQExecutor: QueryExecutor, @unchecked Sendable {
    let conn: PGConnection
    static let cursor = "drill_check"

    init(conn: PGConnection) { self.conn = conn }

    func query(_ sql: String, timeout: DrillDuration, countRowsUpTo: Int) async throws -> QueryResult {
        do {
            try await begin(timeout)
            do {
                _ = try await conn.query("DECLARE \(Self.cursor) NO SCROLL CURSOR FOR \(sql)")
            } catch let e as PGConnection.Failure where e.sqlState == "42601" {
                // Not a query a cursor can hold (or a real syntax error, which the plain run reports as such).
                _ = try? conn.execSync("ROLLBACK")
                try await begin(timeout)
                let plain = try await conn.firstValue(sql)
                _ = try? await conn.query("ROLLBACK")
                return QueryResult(first: plain.value, rowCount: min(plain.rows, countRowsUpTo + 1),
                                   moreRows: plain.rows > countRowsUpTo)
            }
            let first = try await conn.firstValue("FETCH FORWARD 1 FROM \(Self.cursor)")
            var count = first.rows
            if count > 0 {
                // The server steps over the next rows without sending them; MOVE's tag says how many there were.
                count += try await conn.firstValue("MOVE FORWARD \(countRowsUpTo) FROM \(Self.cursor)").commandRows ?? 0
            }
            _ = try? await conn.query("ROLLBACK")
            return QueryResult(first: first.value, rowCount: count, moreRows: count > countRowsUpTo)
        } catch {
            _ = try? conn.execSync("ROLLBACK")
            throw error
        }
    }

    /// An expectation's statement: parameters bound by libpq, in its own read-only transaction with the timeout.
    func rows(_ sql: String, parameters: [String], timeout: DrillDuration, maxRows: Int) async throws -> [[String?]] {
        do {
            try await begin(timeout)
            let rows = try await conn.query(sql, parameters: parameters, maxRows: maxRows)
            _ = try? await conn.query("ROLLBACK")
            return rows
        } catch {
            _ = try? conn.execSync("ROLLBACK")
            throw error
        }
    }

    private func begin(_ timeout: DrillDuration) async throws {
        _ = try await conn.query("BEGIN READ ONLY")
        _ = try await conn.query("SET LOCAL statement_timeout = \(max(1, timeout.seconds) * 1000)")
    }

    func close() async { conn.close() }
}
