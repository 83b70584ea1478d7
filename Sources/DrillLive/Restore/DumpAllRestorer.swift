import DrillCore
import Foundation

/// Restores a `pg_dumpall` cluster dump into the embedded scratch cluster: roles first (drill's own statements from
/// `ClusterDump.parseGlobals`, run as the cluster's superuser: names and LOGIN/INHERIT only), then each database: drill
/// creates it (owned by the restore role) and restores its section, the `pg_dump` body after its `\connect`, with
/// `PsqlRestorer` as the restore role, through `PlainSQLFilter` and psql's `\restrict`. `template1` is not restored
/// (it only holds what initdb put there, or objects every new database would copy). The file is read twice, never
/// run as a whole: nothing in it reaches psql before the filter, and no `\connect` ever does.
public struct DumpAllRestorer: Restorer {
    public var binaries: PostgresBinaries

    public init(binaries: PostgresBinaries) { self.binaries = binaries }

    /// One database's part of the file.
    struct Section: Sendable {
        var database: String
        var encoding: String?
        /// The byte ranges of its `pg_dump` body (after the `\connect`), without `ALTER DATABASE` lines.
        var ranges: [Range<UInt64>] = []
        var droppedLines = 0
    }

    public func restore(_ request: RestoreRequest) async throws -> RestoreOutcome {
        guard let admin = request.admin else {
            throw DrillError(.configuration, "a pg_dumpall cluster dump restores into the embedded scratch cluster only")
        }
        guard case .path(let path) = request.input else {
            throw DrillError(.restoreFailed, "a pg_dumpall cluster dump is restored from a staged file, not a stream")
        }
        let started = Date()
        let (globalsText, sections) = try await OffPool.run { try Self.scan(path) }
        let owner = request.connection.keywords["user"]
        let superuser = admin.keywords["user"] ?? "postgres"
        let globals = ClusterDump.parseGlobals(globalsText, keep: Set([superuser, RestoreAs.ownerRole] + (owner.map { [$0] } ?? [])))
        let conn = try PGConnection(admin)
        defer { conn.close() }
        for role in globals.roles { _ = try conn.execSync(role.createStatement) }
        for grant in globals.grantStatements { _ = try conn.execSync(grant) }
        var findings: [String] = []
        if !globals.roles.isEmpty || !globals.skipped.isEmpty {
            findings.append("pg_dumpall: restored \(globals.roles.count) role\(globals.roles.count == 1 ? "" : "s") (\(globals.roles.map(\.name).joined(separator: ", "))) "
                + "with LOGIN/INHERIT only; not restored: \(globals.skipped.isEmpty ? "nothing" : globals.skipped.joined(separator: "; ")).")
        }
        var restored: [DrillReport.RestoredDatabase] = []
        var stderr: [String] = []
        var version = ""
        let psql = PsqlRestorer(binaries: binaries)
        for section in sections where section.database != "template1" {
            let db = section.database
            let exists = try conn.execSync("SELECT 1 FROM pg_database WHERE datname = '\(db.replacingOccurrences(of: "'", with: "''"))'")
            if !exists.isEmpty {
                findings.append("pg_dumpall: database \(db) already exists in the scratch cluster; its section was not restored.")
                continue
            }
            let ownerClause = owner.map { " OWNER \(ClusterDump.quote($0))" } ?? ""
            let encodingClause = section.encoding.map { " ENCODING '\($0)'" } ?? ""
            _ = try conn.execSync("CREATE DATABASE \(ClusterDump.quote(db)) TEMPLATE template0\(encodingClause)\(ownerClause)")
            if owner != nil, (Int(conn.serverVersion.prefix { $0.isNumber }) ?? 15) < 15 {
                let dbConn = try PGConnection(admin.with(database: db))
                _ = try dbConn.execSync("ALTER SCHEMA public OWNER TO \(ClusterDump.quote(owner!))")
                dbConn.close()
            }
            let ranges = section.ranges
            let input = RestoreInput.stream { sink in try Self.copy(path, ranges, to: sink) }
            let outcome: RestoreOutcome
            do {
                outcome = try await psql.restore(RestoreRequest(input: input, format: .plain, jobs: 1, profile: request.profile,
                                                                connection: request.connection.with(database: db), postgres: request.postgres))
            } catch let e as DrillError {
                throw DrillError(e.code, "database \(db) of the cluster dump: \(e.message)")
            }
            version = outcome.toolVersion
            if !outcome.stderr.isEmpty { stderr.append("\(db): \(outcome.stderr)") }
            findings += outcome.findings.map { "\(db): \($0)" }
            let size = try conn.execSync("SELECT pg_database_size(\(PGConnection.quoteLiteral(db)))").first?.first ?? nil
            restored.append(DrillReport.RestoredDatabase(name: db, sizeBytes: size.flatMap { Int64($0) }))
        }
        var outcome = RestoreOutcome(tool: "psql (pg_dumpall)", toolVersion: version, stderr: stderr.joined(separator: "\n"),
                                     findings: findings, toolSeconds: Date().timeIntervalSince(started))
        outcome.databases = restored
        return outcome
    }

    /// Reads the file once: the globals (before `-- Databases`) and each database section's body ranges.
    static func scan(_ path: String) throws -> (String, [Section]) {
        guard let fh = FileHandle(forReadingAtPath: path) else { throw DrillError(.backupUnreadable, "cannot read \(path)") }
        defer { try? fh.close() }
        var globals = Data()
        var inGlobals = true
        var sections: [Section] = []
        var inBody = false
        var offset: UInt64 = 0
        var carry = Data()
        var sawEnd = false
        func line(_ l: Data, at start: UInt64) {
            let end = start + UInt64(l.count) + 1
            let text = String(decoding: l.prefix(200), as: UTF8.self)
            if inGlobals {
                if text == "-- Databases" { inGlobals = false } else if globals.count < 16 << 20 { globals.append(l); globals.append(0x0A) }
                return
            }
            if let db = ClusterDump.sectionDatabase(Substring(text)) {
                sections.append(Section(database: db))
                inBody = false
                return
            }
            if text.hasPrefix("-- PostgreSQL database cluster dump complete") { sawEnd = true; inBody = false; return }
            guard !sections.isEmpty else { return }
            if !inBody {
                if text.hasPrefix("CREATE DATABASE ") { sections[sections.count - 1].encoding = ClusterDump.encoding(ofCreateDatabase: Substring(text)) }
                if text.hasPrefix("\\connect ") { inBody = true }
                return
            }
            if text.hasPrefix("ALTER DATABASE ") || text.hasPrefix("\\connect ") {
                sections[sections.count - 1].droppedLines += 1
                return
            }
            var ranges = sections[sections.count - 1].ranges
            if let last = ranges.last, last.upperBound == start { ranges[ranges.count - 1] = last.lowerBound..<end } else { ranges.append(start..<end) }
            sections[sections.count - 1].ranges = ranges
        }
        while true {
            let chunk = fh.readData(ofLength: 1 << 20)
            if chunk.isEmpty { break }
            carry.append(chunk)
            var lineStart = carry.startIndex
            while let nl = carry[lineStart...].firstIndex(of: 0x0A) {
                line(carry[lineStart..<nl], at: offset + UInt64(lineStart - carry.startIndex))
                lineStart = carry.index(after: nl)
            }
            offset += UInt64(lineStart - carry.startIndex)
            carry = Data(carry[lineStart...])
        }
        guard sawEnd else {
            throw DrillError(.backupCorrupt, "the cluster dump is truncated: it does not end with pg_dumpall's \"cluster dump complete\" line")
        }
        return (String(decoding: globals, as: UTF8.self), sections)
    }

    /// Writes the byte ranges of `path` into `sink`.
    static func copy(_ path: String, _ ranges: [Range<UInt64>], to sink: FileHandle) throws -> StreamReceipt {
        guard let fh = FileHandle(forReadingAtPath: path) else { throw DrillError(.backupUnreadable, "cannot read \(path)") }
        defer { try? fh.close() }
        var bytes: Int64 = 0
        for r in ranges {
            try fh.seek(toOffset: r.lowerBound)
            var left = r.upperBound - r.lowerBound
            while left > 0 {
                let chunk = fh.readData(ofLength: Int(min(left, 1 << 20)))
                if chunk.isEmpty { break }
                try sink.write(contentsOf: chunk)
                left -= UInt64(chunk.count)
                bytes += Int64(chunk.count)
            }
        }
        return StreamReceipt(bytes: bytes, sha256: "")
    }
}
