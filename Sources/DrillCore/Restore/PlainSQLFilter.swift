import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Filters a plain-SQL `pg_dump` stream so it restores like `pg_restore --no-owner --no-privileges`: it drops
/// `ALTER … OWNER TO …;`, `GRANT …;` and `REVOKE …;` lines outside `COPY … FROM stdin;` data, and remembers the
/// stream's tail to tell whether the dump is complete (pg_dump ends it with "-- PostgreSQL database dump complete").
///
/// It also keeps the restore inside the scratch database: statements on databases and roles (`CREATE/DROP/ALTER
/// DATABASE`, `… ROLE`, as `pg_dump --create` and `pg_dumpall` write) and psql meta-commands (`\connect`, `\!`, …)
/// stop the stream with a `violation`, before they reach psql. pg_dump's own `\restrict`/`\unrestrict` lines are
/// dropped: the restorer sets its own restriction key.
///
/// A lexical filter is not the defence against a hostile dump (`create role …`, `CREATE USER`, two spaces or an
/// `EXECUTE` inside `DO` all pass it): PostgreSQL is, because the restore connects as a role that is not a superuser
/// (`RestoreAs`). The filter stays as an early, clearer refusal of what pg_dump itself never writes.
public struct PlainSQLFilter: Sendable {
    /// Why the stream was stopped, when it was. Nothing is passed on after a violation.
    public private(set) var violation: String?
    private var carry = Data()
    private var inCopy = false
    private var tail = Data()
    public private(set) var droppedStatements = 0
    public private(set) var bytesIn: Int64 = 0

    public init() {}

    static let completionMarker = Data("-- PostgreSQL database dump complete".utf8)

    /// Whether the input seen so far ends with pg_dump's completion marker.
    public var sawCompletionMarker: Bool { tail.range(of: Self.completionMarker) != nil }

    /// Feeds a chunk; returns what to pass on.
    public mutating func feed(_ chunk: Data) -> Data {
        if violation != nil { return Data() }
        bytesIn += Int64(chunk.count)
        tail.append(chunk.suffix(256))
        if tail.count > 256 { tail = Data(tail.suffix(256)) }
        var data = carry
        data.append(chunk)
        carry = Data()
        var out = Data()
        out.reserveCapacity(data.count)
        var lineStart = data.startIndex
        data.withUnsafeBytes { (buf: UnsafeRawBufferPointer) in
            let base = buf.baseAddress!.assumingMemoryBound(to: UInt8.self)
            var i = 0
            let n = buf.count
            var passFrom = 0
            while i < n {
                guard let nl = memchr(base + i, 0x0A, n - i) else { break }
                let end = base.distance(to: nl.assumingMemoryBound(to: UInt8.self))
                let line = UnsafeBufferPointer(start: base + i, count: end - i)
                if !keep(line) {
                    out.append(base + passFrom, count: i - passFrom)
                    passFrom = end + 1
                    if violation != nil { i = n; break }
                    droppedStatements += 1
                }
                i = end + 1
            }
            if violation == nil { out.append(base + passFrom, count: i - passFrom) }
            lineStart = data.startIndex + min(i, n)
        }
        carry = Data(data[lineStart...])
        return out
    }

    /// The unterminated last line, at end of input.
    public mutating func finish() -> Data {
        defer { carry = Data() }
        guard !carry.isEmpty, violation == nil else { return Data() }
        let keepIt = carry.withUnsafeBytes { keep(UnsafeBufferPointer(start: $0.baseAddress!.assumingMemoryBound(to: UInt8.self), count: $0.count)) }
        return keepIt ? carry : Data()
    }

    private mutating func keep(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        if inCopy {
            if line.count == 2 && line[0] == UInt8(ascii: "\\") && line[1] == UInt8(ascii: ".") { inCopy = false }
            return true
        }
        guard let first = line.first, first == UInt8(ascii: "A") || first == UInt8(ascii: "G") || first == UInt8(ascii: "R")
            || first == UInt8(ascii: "C") || first == UInt8(ascii: "D") || first == UInt8(ascii: "\\") else { return true }
        let text = String(decoding: line, as: UTF8.self)
        if first == UInt8(ascii: "\\") {
            if text.hasPrefix("\\restrict ") || text.hasPrefix("\\unrestrict ") {
                droppedStatements -= 1  // not a statement: pg_dump's restriction key, replaced by the restorer's own
                return false
            }
            let command = text.split(separator: " ").first.map(String.init) ?? text
            violation = command == "\\connect" || command == "\\c"
                ? "the dump switches databases (\(command) …): it was made with pg_dump --create or pg_dumpall; drill restores one database per drill, so dump without --create"
                : "the SQL file contains the psql meta-command \(command.prefix(20)), which pg_dump never writes: refusing to run it"
            return false
        }
        for prefix in ["CREATE DATABASE ", "DROP DATABASE ", "ALTER DATABASE ", "CREATE ROLE ", "DROP ROLE ", "ALTER ROLE "]
        where text.hasPrefix(prefix) {
            violation = "the dump contains \"\(prefix.trimmingCharacters(in: .whitespaces)) …\" (pg_dump --create, --clean or pg_dumpall output): drill never creates, drops or alters databases or roles outside its scratch database"
            return false
        }
        if text.hasPrefix("COPY "), text.hasSuffix(" FROM stdin;") {
            inCopy = true
            return true
        }
        if text.hasPrefix("ALTER "), text.contains(" OWNER TO "), text.hasSuffix(";") { return false }
        if (text.hasPrefix("GRANT ") || text.hasPrefix("REVOKE ")), text.hasSuffix(";") { return false }
        return true
    }
}
