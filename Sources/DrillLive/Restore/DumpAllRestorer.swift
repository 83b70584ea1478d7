import DrillCore
import Foundation

/// Restores a `pg_dumpall` cluster dump into the embedded scratch cluster, in one pass over the dump as it streams
/// (a local file, a download, or the plaintext coming out of the decoders: never written to disk, never held whole):
/// roles first (drill's own statements from `ClusterDump.parseGlobals`, run as the cluster's superuser: names and
/// LOGIN/INHERIT only), then each database as its section arrives: drill creates it (owned by the restore role) and
/// streams its section's `pg_dump` body (after its `\connect`, see `ClusterDumpSplitter`) into `PsqlRestorer`, as the
/// restore role, through `PlainSQLFilter` and psql's `\restrict`. `template1` is not restored (it only holds what
/// initdb put there, or objects every new database would copy). Nothing in the dump reaches psql before the filter,
/// and no `\connect` ever does.
public struct DumpAllRestorer: Restorer {
    public var binaries: PostgresBinaries

    public init(binaries: PostgresBinaries) { self.binaries = binaries }

    public func restore(_ request: RestoreRequest) async throws -> RestoreOutcome {
        guard let admin = request.admin else {
            throw DrillError(.configuration, "a pg_dumpall cluster dump restores into the embedded scratch cluster only")
        }
        let started = Date()
        let source = try ClusterDumpSource(request.input)
        let reader = ClusterDumpReader(fd: source.fd)
        // A local file's progress is how far drill has read it (a stream reports its own: the download's bytes).
        let watcher = request.progress.flatMap { progress -> ReadWatcher? in
            guard case .path(let p) = request.input else { return nil }
            return ReadWatcher(total: ReadWatcher.size(of: p), progress: progress, measure: ReadWatcher.position(of: source.fd))
        }
        var outcome: RestoreOutcome
        do {
            outcome = try await withTaskCancellationHandler {
                try await restoreSections(reader, request, admin: admin)
            } onCancel: {
                source.cancel()
            }
            // The rest (after pg_dumpall's last line) is read and ignored: a stream's digest then covers every byte.
            if source.isStream { _ = try await OffPool.run { try reader.drain() } }
        } catch {
            await watcher?.stop()  // before the file's descriptor is closed
            throw await source.fail(error)
        }
        await watcher?.stop()
        watcher?.finished()
        outcome.receipt = try await source.finish()
        outcome.toolSeconds = Date().timeIntervalSince(started)
        return outcome
    }

    private func restoreSections(_ reader: ClusterDumpReader, _ request: RestoreRequest, admin: ConnectionParameters) async throws -> RestoreOutcome {
        guard case .globals(let globalsText)? = try await OffPool.run({ try reader.nextEvent() }) else {
            throw DrillError(.backupCorrupt, "the cluster dump is truncated: it ends before pg_dumpall's list of databases")
        }
        let owner = request.connection.keywords["user"]
        let superuser = admin.keywords["user"] ?? "postgres"
        let globals = ClusterDump.parseGlobals(globalsText, keep: Set([superuser, RestoreAs.ownerRole] + (owner.map { [$0] } ?? [])))
        let conn = try PGConnection(admin)
        defer { conn.close() }
        for statement in globals.roles.map(\.createStatement) + globals.grantStatements { _ = try await conn.query(statement) }
        var findings: [String] = []
        if !globals.roles.isEmpty || !globals.skipped.isEmpty {
            findings.append("pg_dumpall: restored \(globals.roles.count) role\(globals.roles.count == 1 ? "" : "s") (\(globals.roles.map(\.name).joined(separator: ", "))) "
                + "with LOGIN/INHERIT only; not restored: \(globals.skipped.isEmpty ? "nothing" : globals.skipped.joined(separator: "; ")).")
        }
        if reader.globalsTruncated {
            findings.append("pg_dumpall: the roles part holds lines longer than \(ClusterDumpSplitter.maxLineHead) bytes or is longer than \(ClusterDumpSplitter.maxGlobals >> 20) MiB; what was beyond was not read.")
        }
        var restored: [DrillReport.RestoredDatabase] = []
        var stderr: [String] = []
        var version = ""
        let psql = PsqlRestorer(binaries: binaries)
        loop: while true {
            try Task.checkCancellation()
            switch try await OffPool.run({ try reader.nextEvent() }) {
            case nil:
                throw DrillError(.backupCorrupt, "the cluster dump is truncated: it does not end with pg_dumpall's \"cluster dump complete\" line")
            case .complete?:
                break loop
            case .database(let db, let encoding)?:
                guard db != "template1" else {
                    _ = try await OffPool.run { try reader.copyBody(to: nil) }
                    continue
                }
                if !(try await conn.query("SELECT 1 FROM pg_database WHERE datname = \(PGConnection.quoteLiteral(db))")).isEmpty {
                    findings.append("pg_dumpall: database \(db) already exists in the scratch cluster; its section was not restored.")
                    _ = try await OffPool.run { try reader.copyBody(to: nil) }
                    continue
                }
                try await create(db, encoding: encoding, owner: owner, conn, admin: admin)
                let input = RestoreInput.stream { sink in
                    let fd = sink.fileDescriptor
                    return StreamReceipt(bytes: try await OffPool.run { try reader.copyBody(to: fd) }, sha256: "")
                }
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
                let size = try await conn.query("SELECT pg_database_size(\(PGConnection.quoteLiteral(db)))").first?.first ?? nil
                restored.append(DrillReport.RestoredDatabase(name: db, sizeBytes: size.flatMap { Int64($0) }))
            case .body?, .databaseEnd?, .globals?:
                continue  // not emitted outside a section
            }
        }
        var outcome = RestoreOutcome(tool: "psql (pg_dumpall)", toolVersion: version, stderr: stderr.joined(separator: "\n"), findings: findings)
        outcome.databases = restored
        return outcome
    }

    /// Creates a section's database, owned by the restore role.
    private func create(_ db: String, encoding: String?, owner: String?, _ conn: PGConnection, admin: ConnectionParameters) async throws {
        let ownerClause = owner.map { " OWNER \(ClusterDump.quote($0))" } ?? ""
        let encodingClause = encoding.map { " ENCODING '\($0)'" } ?? ""
        _ = try await conn.query("CREATE DATABASE \(ClusterDump.quote(db)) TEMPLATE template0\(encodingClause)\(ownerClause)")
        if let owner, (Int(conn.serverVersion.prefix { $0.isNumber }) ?? 15) < 15 {
            // Before PostgreSQL 15 the public schema belongs to the bootstrap superuser.
            let dbConn = try PGConnection(admin.with(database: db))
            defer { dbConn.close() }
            _ = try await dbConn.query("ALTER SCHEMA public OWNER TO \(ClusterDump.quote(owner))")
        }
    }
}

/// Where a cluster dump is read from: a local file, or the read end of a pipe a producer (a download, the decoders)
/// writes into.
final class ClusterDumpSource: @unchecked Sendable {
    private let handle: FileHandle
    private let producer: Task<StreamReceipt, any Error>?
    var fd: Int32 { handle.fileDescriptor }
    var isStream: Bool { producer != nil }

    init(_ input: RestoreInput) throws {
        switch input {
        case .path(let p):
            guard let fh = FileHandle(forReadingAtPath: p) else { throw DrillError(.backupUnreadable, "cannot read \(p)") }
            handle = fh
            producer = nil
        case .stream(let produce):
            let (r, w) = try ChildProcess.pipe()
            handle = r
            producer = Task {
                defer { try? w.close() }
                return try await produce(w)
            }
        }
    }

    /// Stops the producer (the drill was cancelled): the reader then sees the end of the input.
    func cancel() { producer?.cancel() }

    /// After the whole input was read: the producer's receipt (size and digest of the stored bytes), or its failure.
    func finish() async throws -> StreamReceipt? {
        try? handle.close()
        return try await producer?.value
    }

    /// After the restore failed: stops the producer (it sees a broken pipe) and returns the error that explains the
    /// failure best: the producer's own (a failed download, a damaged compression layer, a wrong key) over the
    /// restore's "truncated" that follows from it.
    func fail(_ error: any Error) async -> any Error {
        try? handle.close()
        guard let producer else { return error }
        // A producer stuck on a stalled download is cancelled after a while.
        let limit = Task {
            try await Task.sleep(for: .seconds(5))
            producer.cancel()
        }
        let result = await producer.result
        limit.cancel()
        if !(error is CancellationError), case .failure(let e) = result, e is DrillError { return e }
        return error
    }
}
