import DrillCore
import Foundation
import Synchronization

/// Production sessions through libpq: libpq conventions (`.pgpass`, `PG*`) fill what the URL does not say; every
/// session is read-only but the heartbeat's; connection and statements are bounded (connect_timeout, TCP keepalives
/// and user timeout, a server-side statement_timeout, and a client-side bound that cancels the query).
public struct LibPQReplicaLink: ReplicaLink {
    public init() {}

    public func open(_ url: String, kind: ReplicaSessionKind, limits: ReplicaLimits) async throws -> any ReplicaSession {
        let params = try Self.parameters(url, kind: kind, limits: limits)
        do {
            let conn = try await Bounded.blocking(within: limits.connect + .seconds(2), { try PGConnection(params) },
                                                  abandon: { $0.close() })
            return LibPQReplicaSession(conn: conn, limit: limits.statement + .seconds(2))
        } catch is Bounded.Timeout {
            throw ReplicaLinkError(.timedOut, "no connection within \(Bounded.seconds(limits.connect + .seconds(2))) s")
        } catch let f as PGConnection.Failure {
            throw ReplicaLinkError(.unreachable, sqlState: f.sqlState, f.message)
        }
    }

    public func checkConnection(_ url: String, database: String?, limits: ReplicaLimits) throws -> ConnectionParameters {
        var p = try ConnInfo.parse(url, key: "replica.standbys[].url")
        if let database { p.keywords["dbname"] = database }
        for (k, v) in Self.networkBounds(limits) { p.keywords[k] = v }
        return p
    }

    /// The libpq keywords of a session (pure, tested): the URL's, the network bounds, drill's application name, and
    /// the session settings: read-only, UTC, statement and lock timeouts; the heartbeat's session may write and commits
    /// with `synchronous_commit = local` so it never waits for a synchronous standby.
    public static func parameters(_ url: String, kind: ReplicaSessionKind, limits: ReplicaLimits) throws -> ConnectionParameters {
        var p = try ConnInfo.parse(url, key: "replica url")
        for (k, v) in networkBounds(limits) { p.keywords[k] = v }
        p.keywords["application_name"] = kind == .heartbeat ? "drill-heartbeat" : "drill-replica"
        let ms = milliseconds(limits.statement)
        var options = ["-c TimeZone=UTC", "-c statement_timeout=\(ms)", "-c lock_timeout=\(min(ms, 5000))",
                       "-c idle_in_transaction_session_timeout=\(ms)"]
        switch kind {
        case .monitor: options.insert("-c default_transaction_read_only=on", at: 0)
        case .heartbeat: options.insert(contentsOf: ["-c default_transaction_read_only=off", "-c synchronous_commit=local"], at: 0)
        }
        p.keywords["options"] = ([p.keywords["options"]].compactMap { $0 } + options).joined(separator: " ")
        return p
    }

    /// connect_timeout, TCP keepalives and tcp_user_timeout: a server that vanishes is noticed within seconds.
    static func networkBounds(_ limits: ReplicaLimits) -> [String: String] {
        ["connect_timeout": "\(max(2, Int(Bounded.seconds(limits.connect))))", "keepalives": "1", "keepalives_idle": "5",
         "keepalives_interval": "2", "keepalives_count": "3", "tcp_user_timeout": "\(milliseconds(limits.statement))"]
    }

    static func milliseconds(_ d: Duration) -> Int64 { Int64((Bounded.seconds(d) * 1000).rounded()) }
}

/// One production session. A statement that runs over its bound is cancelled and the session is not used again.
final class LibPQReplicaSession: ReplicaSession {
    let conn: PGConnection
    let limit: Duration
    private let broken = Mutex<String?>(nil)

    init(conn: PGConnection, limit: Duration) {
        self.conn = conn
        self.limit = limit
    }

    func rows(_ sql: String) async throws -> [[String?]] {
        if let why = broken.withLock({ $0 }) { throw ReplicaLinkError(.unreachable, "the session is no longer usable: \(why)") }
        let conn = self.conn
        do {
            return try await Bounded.run(within: limit) { try await conn.query(sql) }
        } catch is Bounded.Timeout {
            let why = "no answer within \(Bounded.seconds(limit)) s (the statement was cancelled)"
            broken.withLock { $0 = why }
            throw ReplicaLinkError(.timedOut, why)
        } catch let f as PGConnection.Failure {
            // No SQLSTATE: the connection itself failed.
            if f.sqlState == nil { broken.withLock { $0 = f.message } }
            throw ReplicaLinkError(f.sqlState == nil ? .unreachable : .server, sqlState: f.sqlState, f.message)
        }
    }

    func close() async {
        let conn = self.conn
        // close() waits for a running statement: never on the cooperative pool.
        DispatchQueue.global().async { conn.close() }
    }
}
