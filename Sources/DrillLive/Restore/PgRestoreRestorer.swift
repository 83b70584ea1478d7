import DrillCore
import Foundation

/// Restores custom, directory and tar archives with `pg_restore --exit-on-error --no-owner --no-privileges -j N`.
/// Connection settings travel in the environment (`PGHOST`, `PGPASSWORD`, …), never on the command line, and that
/// environment is an allow-list (`ClientEnvironment`): none of drill's other variables (its S3 credentials) reach
/// the tool. The connection's user owns what is restored (`--no-owner`); a statement it lacks the privilege for
/// fails the restore with a finding that names it (`PrivilegeRefusal`).
public struct PgRestoreRestorer: Restorer {
    public var binaries: PostgresBinaries

    public init(binaries: PostgresBinaries) { self.binaries = binaries }

    /// The `pg_restore` arguments: a pure function, tested on its own. `path` nil means standard input.
    public static func arguments(format: BackupFormat, jobs: Int, database: String, path: String?) -> [String] {
        var args = ["--exit-on-error", "--no-owner", "--no-privileges", "--no-password", "--dbname=\(database)"]
        switch format {
        case .custom: args.append("--format=custom")
        case .directory: args.append("--format=directory")
        case .tar: args.append("--format=tar")
        default: break
        }
        // Parallel restore needs a seekable file or a folder; tar and standard input restore with one job.
        if jobs > 1, path != nil, format == .custom || format == .directory { args.append("--jobs=\(jobs)") }
        if let path { args.append(path) }
        return args
    }

    public func restore(_ request: RestoreRequest) async throws -> RestoreOutcome {
        let tool = (request.postgres?.binaries ?? binaries).tool("pg_restore")
        async let version = PostgresBinaries.version(of: tool)  // alongside the restore, not before it
        guard let database = request.connection.database else {
            throw DrillError(.restoreFailed, "no database to restore into")
        }
        let path: String? = if case .path(let p) = request.input { p } else { nil }
        let spec = ProcessSpec(
            executable: tool,
            arguments: Self.arguments(format: request.format, jobs: request.jobs, database: database, path: path),
            environment: ClientEnvironment.for(request.connection, profile: request.profile),
            stdin: path == nil ? .pipe : .null,
            stdout: .capture(limit: 16 * 1024),
            stderr: .capture(limit: 32 * 1024),
            inherit: ClientEnvironment.inheritance(request.connection))
        let (result, receipt) = try await StreamedRun.run(spec, input: request.input, progress: request.progress)
        let stderr = result.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
        guard result.succeeded else {
            if let refusal = PrivilegeRefusal.find(in: stderr) {
                throw DrillError(.restoreFailed, refusal.finding(role: request.connection.keywords["user"]))
            }
            throw DrillError(.restoreFailed, "pg_restore failed (\(result.summary)): \(lastError(stderr))")
        }
        return RestoreOutcome(tool: "pg_restore", toolVersion: await version, stderr: stderr, receipt: receipt,
                              toolSeconds: result.seconds)
    }
}

/// Environment for libpq client tools: the connection, plus the profile's session settings on servers we do not own.
/// Messages in English (`LC_MESSAGES=C`), so refusals can be recognised.
enum ClientEnvironment {
    static func `for`(_ c: ConnectionParameters, profile: RestoreProfile) -> [String: String] {
        var env = c.environment
        env["PGAPPNAME"] = "drill-restore"
        env["PATH"] = ProcessSpec.safePath
        env["LC_MESSAGES"] = "C"
        if !c.isolated, profile == .fast { env["PGOPTIONS"] = (env["PGOPTIONS"].map { $0 + " " } ?? "") + "-c synchronous_commit=off" }
        return env
    }

    /// What the tool inherits of drill's environment: the locale and time zone; for a server the user gave, also the
    /// libpq conventions (`PG*` variables, `PGPASSWORD` included, and `HOME` for `~/.pgpass` and `~/.postgresql/`).
    static func inheritance(_ c: ConnectionParameters) -> ProcessSpec.Inheritance {
        let locale = ["LANG", "LANGUAGE", "LC_CTYPE", "LC_COLLATE", "TZ"]
        return .only(c.isolated ? locale : locale + ["PG*", "HOME"])
    }
}

/// The telling lines of a tool's error output: the first error (the cause; later ones are often consequences such as
/// "a worker process died unexpectedly") and, when different, the last. Falls back to the last line.
func lastError(_ stderr: String) -> String {
    let lines = stderr.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    let errors = lines.filter { $0.contains("error:") || $0.contains("ERROR:") || $0.contains("FATAL:") }
    guard let first = errors.first else { return lines.last ?? "no error output" }
    if let last = errors.last, last != first { return "\(first) … \(last)" }
    return first
}
