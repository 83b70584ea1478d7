import CLibPQ
import DrillCore
import Foundation

/// A blocking libpq connection. Calls run on a private serial queue so they never block Swift's cooperative pool;
/// a cancelled task cancels the running statement with `PQcancel`.
public final class PGConnection: @unchecked Sendable {
    private let conn: OpaquePointer
    private let queue = DispatchQueue(label: "drill.libpq")
    private var closed = false

    /// An error from the server or libpq: SQLSTATE when the server sent one, and the primary message.
    public struct Failure: Error, CustomStringConvertible {
        public var sqlState: String?
        public var message: String
        public var description: String { message }
    }

    /// Connects (blocking). libpq's own conventions apply: `PG*` variables and `.pgpass` fill what is not given.
    public init(_ parameters: ConnectionParameters) throws {
        let keys = parameters.keywords.keys.sorted()
        let cKeys = keys.map { strdup($0) } + [nil]
        let cValues = keys.map { strdup(parameters.keywords[$0]!) } + [nil]
        defer {
            cKeys.forEach { free($0) }
            cValues.forEach { free($0) }
        }
        let c: OpaquePointer? = cKeys.withUnsafeBufferPointer { kp in
            cValues.withUnsafeBufferPointer { vp in
                kp.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: kp.count) { k in
                    vp.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: vp.count) { v in
                        PQconnectdbParams(k, v, 0)
                    }
                }
            }
        }
        guard let c else { throw Failure(sqlState: nil, message: "out of memory") }
        guard PQstatus(c) == CONNECTION_OK else {
            let msg = Self.clean(String(cString: PQerrorMessage(c)))
            PQfinish(c)
            throw Failure(sqlState: nil, message: msg)
        }
        conn = c
    }

    deinit { if !closed { PQfinish(conn) } }

    public func close() {
        queue.sync {
            if !closed {
                PQfinish(conn)
                closed = true
            }
        }
    }

    /// A password verifier computed by libpq (`PQencryptPasswordConn`), for `ALTER ROLE … PASSWORD` without sending
    /// the password itself.
    public func encryptPassword(_ password: String, user: String, algorithm: String = "scram-sha-256") -> String? {
        queue.sync {
            guard let p = PQencryptPasswordConn(conn, password, user, algorithm) else { return nil }
            defer { PQfreemem(p) }
            return String(cString: p)
        }
    }

    public var serverVersion: String {
        queue.sync { PQparameterStatus(conn, "server_version").map { String(cString: $0) } ?? "unknown" }
    }

    /// Runs one statement (no parameters, so exactly one statement is accepted) and returns the rows as text.
    public func query(_ sql: String) async throws -> [[String?]] {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (k: CheckedContinuation<[[String?]], any Error>) in
                queue.async {
                    k.resume(with: Result { try self.execSync(sql) })
                }
            }
        } onCancel: {
            self.cancelRunning()
        }
    }

    /// Runs a statement synchronously (for teardown paths that must not depend on task cancellation).
    public func execSync(_ sql: String) throws -> [[String?]] {
        guard let res = PQexecParams(conn, sql, 0, nil, nil, nil, nil, 0) else {
            throw Failure(sqlState: nil, message: Self.clean(String(cString: PQerrorMessage(conn))))
        }
        defer { PQclear(res) }
        switch PQresultStatus(res) {
        case PGRES_TUPLES_OK:
            let n = PQntuples(res), m = PQnfields(res)
            var rows: [[String?]] = []
            rows.reserveCapacity(Int(n))
            for i in 0..<n {
                var row: [String?] = []
                for j in 0..<m {
                    row.append(PQgetisnull(res, i, j) == 1 ? nil : String(cString: PQgetvalue(res, i, j)))
                }
                rows.append(row)
            }
            return rows
        case PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            return []
        default:
            let state = PQresultErrorField(res, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
            let primary = PQresultErrorField(res, Int32(UInt8(ascii: "M"))).map { String(cString: $0) }
            throw Failure(sqlState: state, message: primary ?? Self.clean(String(cString: PQresultErrorMessage(res))))
        }
    }

    private func cancelRunning() {
        guard let cancel = PQgetCancel(conn) else { return }
        var buf = [CChar](repeating: 0, count: 256)
        _ = PQcancel(cancel, &buf, 256)
        PQfreeCancel(cancel)
    }

    static func clean(_ s: String) -> String {
        s.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "\n", with: " ")
    }

    /// Whether a server accepts connections (PQping), without authenticating.
    public static func ping(_ parameters: ConnectionParameters) -> Bool {
        PQping(parameters.conninfo) == PQPING_OK
    }

    /// Quotes an SQL identifier.
    public static func quoteIdentifier(_ s: String) -> String { "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }

    /// Quotes an SQL string literal.
    public static func quoteLiteral(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "''") + "'" }
}

/// Parses a libpq connection string or URI into keywords with `PQconninfoParse`, so every libpq convention is honoured.
public enum ConnInfo {
    /// `key` names the drill file's key in the error (default `target.url`).
    public static func parse(_ text: String, key: String = "target.url") throws -> ConnectionParameters {
        var err: UnsafeMutablePointer<CChar>?
        guard let opts = PQconninfoParse(text, &err) else {
            let msg = err.map { String(cString: $0) } ?? "invalid connection string"
            if let err { PQfreemem(err) }
            throw DrillError(.configuration, "\(key) is not a valid libpq connection string or URI: \(Redact.connectionText(PGConnection.clean(msg), secretsFrom: text))")
        }
        defer { PQconninfoFree(opts) }
        var out: [String: String] = [:]
        var p = opts
        while let kw = p.pointee.keyword {
            if let v = p.pointee.val { out[String(cString: kw)] = String(cString: v) }
            p += 1
        }
        return ConnectionParameters(out)
    }
}

/// Removes secrets from connection text before it is shown.
public enum Redact {
    /// `postgresql://user:secret@host/db` → `postgresql://user@host/db`; `password=secret` → `password=***`.
    public static func url(_ s: String) -> String {
        var out = s
        if let schemeEnd = out.range(of: "://") {
            let rest = out[schemeEnd.upperBound...]
            if let at = rest.firstIndex(of: "@"), let colon = rest[..<at].firstIndex(of: ":") {
                out.replaceSubrange(colon..<at, with: "")
            }
        }
        out = out.replacingOccurrences(of: #"password=('[^']*'|[^\s&]*)"#, with: "password=***", options: .regularExpression)
        return out
    }

    /// Removes any password found in `source` from `message`.
    public static func connectionText(_ message: String, secretsFrom source: String) -> String {
        var m = message
        if let p = try? ConnInfoSecrets.passwords(in: source) {
            for secret in p where !secret.isEmpty { m = m.replacingOccurrences(of: secret, with: "***") }
        }
        return url(m)
    }
}

enum ConnInfoSecrets {
    static func passwords(in text: String) throws -> [String] {
        var out: [String] = []
        if let schemeEnd = text.range(of: "://") {
            let rest = text[schemeEnd.upperBound...]
            if let at = rest.firstIndex(of: "@"), let colon = rest[..<at].firstIndex(of: ":") {
                let raw = String(rest[rest.index(after: colon)..<at])
                out.append(raw)
                if let dec = raw.removingPercentEncoding { out.append(dec) }
            }
        }
        if let r = text.range(of: #"password=('[^']*'|[^\s&]*)"#, options: .regularExpression) {
            out.append(String(text[r].dropFirst("password=".count)).trimmingCharacters(in: CharacterSet(charactersIn: "'")))
        }
        return out
    }
}
