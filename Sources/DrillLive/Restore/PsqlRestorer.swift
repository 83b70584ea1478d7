import DrillCore
import Foundation

/// Restores plain SQL (and gzip-compressed plain SQL) by streaming it through `psql -X -v ON_ERROR_STOP=1`.
/// The SQL passes through `PlainSQLFilter` (no owners, no privileges) and must end with pg_dump's completion marker,
/// or the backup is reported truncated. `psql` connects as the connection's user (the scratch database's owner, not a
/// superuser), with an allow-listed environment; a statement refused for lack of a privilege fails the restore with
/// a finding that names it (psql echoes failed statements: `ECHO errors`).
public struct PsqlRestorer: Restorer {
    public var binaries: PostgresBinaries

    public init(binaries: PostgresBinaries) { self.binaries = binaries }

    /// The `psql` arguments: a pure function, tested on its own.
    public static func arguments(database: String) -> [String] {
        ["-X", "-q", "--no-password", "-v", "ON_ERROR_STOP=1", "--dbname=\(database)", "-f", "-"]
    }

    public func restore(_ request: RestoreRequest) async throws -> RestoreOutcome {
        let binaries = request.postgres?.binaries ?? self.binaries
        let psqlPath = binaries.tool("psql")
        let version = await PostgresBinaries.version(of: psqlPath)
        guard let database = request.connection.database else { throw DrillError(.restoreFailed, "no database to restore into") }
        let psql = try ChildProcess(ProcessSpec(
            executable: psqlPath, arguments: Self.arguments(database: database),
            environment: ClientEnvironment.for(request.connection, profile: request.profile),
            stdin: .pipe, stdout: .null, stderr: .capture(limit: 32 * 1024),
            inherit: ClientEnvironment.inheritance(request.connection)))
        guard let psqlIn = psql.stdin else { throw DrillError(.restoreFailed, "psql has no input pipe") }

        // The SQL source: the file, gzip's output, or a pipe the store's stream is written into.
        var gzip: ChildProcess?
        var producer: Task<StreamReceipt, any Error>?
        var watcher: ReadWatcher?
        let source: FileHandle
        do {
            switch (request.format, request.input) {
            case (.plainGzip, .path(let p)):
                gzip = try ChildProcess(ProcessSpec(executable: binaries.tool("gzip"), arguments: ["-dc", "--", p],
                                                    stdout: .pipe, stderr: .capture(limit: 8 * 1024), inherit: .only([])))
                source = gzip!.stdout!
                if let progress = request.progress {
                    let total = ReadWatcher.size(of: p)
                    watcher = ReadWatcher(total: total, progress: progress, measure: ReadWatcher.processReads(root: gzip!.pid, total: total))
                }
            case (_, .path(let p)):
                guard let fh = FileHandle(forReadingAtPath: p) else { throw DrillError(.backupUnreadable, "cannot read \(p)") }
                source = fh
                if let progress = request.progress {
                    watcher = ReadWatcher(total: ReadWatcher.size(of: p), progress: progress, measure: ReadWatcher.position(of: fh.fileDescriptor))
                }
            case (.plainGzip, .stream(let produce)):
                let g = try ChildProcess(ProcessSpec(executable: binaries.tool("gzip"), arguments: ["-dc"], stdin: .pipe,
                                                     stdout: .pipe, stderr: .capture(limit: 8 * 1024), inherit: .only([])))
                gzip = g
                let sink = g.stdin!
                producer = Task { defer { try? sink.close() }; return try await produce(sink) }
                source = g.stdout!
            case (_, .stream(let produce)):
                let (r, w) = try ChildProcess.pipe()
                producer = Task { defer { try? w.close() }; return try await produce(w) }
                source = r
            }
        } catch {
            await watcher?.stop()
            psql.signal(SIGTERM)
            try? psqlIn.close()
            _ = await psql.wait()
            throw error
        }

        let (producerTask, gzipChild) = (producer, gzip)
        // Restricted mode (psql 15.14+ and the like): psql refuses every meta-command for the whole restore, so SQL
        // from a backup can never run shell commands or switch databases, whatever the filter misses.
        // Failed statements are echoed to stderr (`ECHO errors`, as `psql -b`), for the refusal's finding; set before the
        // restriction, which forbids every meta-command after it.
        let restrictPrefix = Data("\\set ECHO errors\n".utf8) + (Self.supportsRestrict(version)
            ? Data("\\restrict \(String((0..<40).map { _ in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".randomElement()! }))\n".utf8)
            : Data())
        let relay = await withTaskCancellationHandler {
            await Relay.run(from: source, to: psqlIn, prefix: restrictPrefix)
        } onCancel: {
            producerTask?.cancel()
            gzipChild?.signal(SIGTERM)
            psql.signal(SIGTERM)
        }
        await watcher?.stop()  // before the file's descriptor is closed
        try? source.close()
        try? psqlIn.close()
        let psqlResult = await psql.wait()
        let gzipResult = await gzip?.wait()
        let produced = await producer?.result
        try Task.checkCancellation()

        if case .failure(let e)? = produced, e is DrillError { throw e }
        if let violation = relay.filter.violation { throw DrillError(.restoreFailed, "refused to restore: \(violation)") }
        if let gzipResult, !gzipResult.succeeded, psqlResult.succeeded || relay.filter.bytesIn > 0 && !relay.filter.sawCompletionMarker {
            throw DrillError(.backupCorrupt, "the gzip stream is damaged or truncated (gzip: \(lastError(gzipResult.stderr)))")
        }
        let stderr = psqlResult.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
        guard psqlResult.succeeded else {
            if let refusal = PrivilegeRefusal.find(in: stderr) {
                throw DrillError(.restoreFailed, refusal.finding(role: request.connection.keywords["user"]))
            }
            throw DrillError(.restoreFailed, "psql failed (\(psqlResult.summary)): \(lastError(stderr))")
        }
        if let e = relay.error { throw DrillError(.restoreFailed, "feeding psql failed: \(e)") }
        if case .failure(let e)? = produced { throw e }
        guard relay.filter.sawCompletionMarker else {
            throw DrillError(.backupCorrupt,
                             "the SQL dump is truncated: it does not end with pg_dump's \"dump complete\" line (\(relay.filter.bytesIn) bytes read)")
        }
        var findings: [String] = []
        if relay.filter.droppedStatements > 0 {
            findings.append("Plain SQL restored without ownership and privileges: \(relay.filter.droppedStatements) OWNER TO / GRANT / REVOKE statement\(relay.filter.droppedStatements == 1 ? " was" : "s were") skipped, as pg_restore --no-owner --no-privileges would.")
        }
        watcher?.finished()
        let receipt: StreamReceipt? = if case .success(let r)? = produced { r } else { nil }
        return RestoreOutcome(tool: "psql", toolVersion: version, stderr: stderr, receipt: receipt, findings: findings,
                              toolSeconds: psqlResult.seconds)
    }
}

extension PsqlRestorer {
    /// Whether this psql has `\restrict` (added in 13.22, 14.19, 15.14, 16.10, 17.6 and 18).
    static func supportsRestrict(_ version: String) -> Bool {
        let parts = version.split(separator: ".").compactMap { Int($0.prefix { $0.isNumber }) }
        guard let major = parts.first else { return false }
        let minor = parts.count > 1 ? parts[1] : 0
        switch major {
        case 13: return minor >= 22
        case 14: return minor >= 19
        case 15: return minor >= 14
        case 16: return minor >= 10
        case 17: return minor >= 6
        default: return major >= 18
        }
    }
}

/// Copies a SQL stream through `PlainSQLFilter` on a dedicated thread (blocking reads and writes stay off the pool).
enum Relay {
    struct Outcome: Sendable {
        var filter: PlainSQLFilter
        var error: String?
    }

    static func run(from source: FileHandle, to sink: FileHandle, prefix: Data) async -> Outcome {
        await withCheckedContinuation { (k: CheckedContinuation<Outcome, Never>) in
            let t = Thread {
                var filter = PlainSQLFilter()
                var failure: String?
                if !prefix.isEmpty { try? sink.write(contentsOf: prefix) }
                let fd = source.fileDescriptor
                var buf = [UInt8](repeating: 0, count: 1 << 20)
                loop: while true {
                    let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, 1 << 20) }
                    if n < 0 && errno == EINTR { continue }
                    if n < 0 { failure = "read failed: \(String(cString: strerror(errno)))"; break }
                    let out = n == 0 ? filter.finish() : filter.feed(Data(buf[0..<n]))
                    if !out.isEmpty {
                        do { try sink.write(contentsOf: out) } catch {
                            failure = "psql stopped reading"
                            break loop
                        }
                    }
                    if n == 0 || filter.violation != nil { break }
                }
                k.resume(returning: Outcome(filter: filter, error: failure))
            }
            t.start()
        }
    }
}
