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

    /// Runs one statement with parameters bound by libpq (`PQexecParams`: text values, types inferred by the server;
    /// never spliced into the SQL) and returns at most `maxRows` rows as text.
    public func query(_ sql: String, parameters: [String], maxRows: Int = .max) async throws -> [[String?]] {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (k: CheckedContinuation<[[String?]], any Error>) in
                queue.async {
                    k.resume(with: Result { try self.execSync(sql, parameters: parameters, maxRows: maxRows) })
                }
            }
        } onCancel: {
            self.cancelRunning()
        }
    }

    /// Runs a statement synchronously (for teardown paths that must not depend on task cancellation).
    public func execSync(_ sql: String, parameters: [String] = [], maxRows: Int = .max) throws -> [[String?]] {
        try withResult(sql, parameters: parameters) { res in
            guard let res else { return [] }
            let n = min(PQntuples(res), Int32(clamping: maxRows)), m = PQnfields(res)
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
        }
    }

    /// What `firstValue` read of a statement's result.
    public struct FirstValue: Sendable, Equatable {
        /// The first column of the first row, bounded (`ObservedValue`); nil when the result has no row.
        public var value: ObservedValue?
        /// Rows in the result.
        public var rows: Int
        /// The row count of the command tag (`PQcmdTuples`): for `MOVE n`, the rows it skipped.
        public var commandRows: Int?
    }

    /// Runs one statement and keeps only the first column of its first row: the whole value when it is at most
    /// `CheckOutput.evaluatedBytes`, else its head, and always its length and SHA-256, read from libpq's buffer
    /// without another copy of the value.
    public func firstValue(_ sql: String) async throws -> FirstValue {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (k: CheckedContinuation<FirstValue, any Error>) in
                queue.async {
                    k.resume(with: Result {
                        try self.withResult(sql) { res in
                            guard let res else { return FirstValue(value: nil, rows: 0, commandRows: nil) }
                            let tag = String(cString: PQcmdTuples(res))
                            let rows = Int(PQntuples(res))
                            guard rows > 0, PQnfields(res) > 0 else { return FirstValue(value: nil, rows: rows, commandRows: Int(tag)) }
                            return FirstValue(value: Self.observed(res, row: 0, column: 0), rows: rows, commandRows: Int(tag))
                        }
                    })
                }
            }
        } onCancel: {
            self.cancelRunning()
        }
    }

    /// One value of a result, bounded: see `firstValue`.
    static func observed(_ res: OpaquePointer, row: Int32, column: Int32) -> ObservedValue {
        guard PQgetisnull(res, row, column) == 0, let p = PQgetvalue(res, row, column) else { return .null }
        let length = Int(PQgetlength(res, row, column))
        let bytes = UnsafeRawBufferPointer(start: UnsafeRawPointer(p), count: length)
        let hasher = SHA256Hasher()
        hasher.update(bytes)
        let digest = hasher.finalizeHex()
        if length <= CheckOutput.evaluatedBytes {
            return ObservedValue(String(decoding: bytes, as: UTF8.self), sha256: digest)
        }
        // Only the head becomes a Swift string (one more than the stored bytes, so the cut finds a boundary).
        let head = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[0..<(CheckOutput.storedBytes + 4)]), as: UTF8.self)
        return ObservedValue(isNull: false, text: nil, head: CheckOutput.prefix(head, maxBytes: CheckOutput.storedBytes),
                             byteCount: length, sha256: digest)
    }

    /// Runs a statement and hands its result to `body` (nil for a command without rows), or throws the server's
    /// error.
    private func withResult<T>(_ sql: String, parameters: [String] = [], _ body: (OpaquePointer?) throws -> T) throws -> T {
        let values = parameters.map { strdup($0) }
        defer { values.forEach { free($0) } }
        let result: OpaquePointer? = values.map { UnsafePointer($0) }.withUnsafeBufferPointer { p in
            PQexecParams(conn, sql, Int32(parameters.count), nil, parameters.isEmpty ? nil : p.baseAddress, nil, nil, 0)
        }
        guard let res = result else {
            throw Failure(sqlState: nil, message: Self.clean(String(cString: PQerrorMessage(conn))))
        }
        defer { PQclear(res) }
        switch PQresultStatus(res) {
        case PGRES_TUPLES_OK:
            return try body(res)
        case PGRES_COMMAND_OK:
            // MOVE is a command whose tag carries a count.
            return try body(PQcmdTuples(res).pointee == 0 ? nil : res)
        case PGRES_EMPTY_QUERY:
            return try body(nil)
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
