import DrillCore
import Foundation

/// A folder of PostgreSQL programs (`initdb`, `postgres`, `pg_restore`, `psql`, …) of one version.
public struct PostgresBinaries: Sendable, Equatable {
    public var directory: String

    public init(directory: String) { self.directory = directory }

    public func path(_ tool: String) -> String { (directory as NSString).appendingPathComponent(tool) }

    public func has(_ tool: String) -> Bool { FileManager.default.isExecutableFile(atPath: path(tool)) }

    /// Finds server binaries: `$DRILL_PG_BINDIR` (or `$DRILL_PG_BIN`; a colon-separated list), `pg_config --bindir`,
    /// `PATH`, then `/usr/lib/postgresql/*/bin` (newest first). The first folder that holds both `initdb` and `postgres`
    /// wins. Drills choose among all of them by the backup's version (`LivePostgresCatalog`); this is the default.
    public static func discover(environment: [String: String] = ProcessInfo.processInfo.environment) async -> PostgresBinaries? {
        var candidates: [String] = []
        if let (_, folders) = LivePostgresCatalog.explicitFolders(environment) {
            // An explicit choice is honoured or reported, never silently replaced by another installation.
            return folders.map(PostgresBinaries.init(directory:)).first { $0.has("initdb") && $0.has("postgres") }
        }
        for dir in (environment["PATH"] ?? "").split(separator: ":").map(String.init) {
            let pgConfig = (dir as NSString).appendingPathComponent("pg_config")
            if FileManager.default.isExecutableFile(atPath: pgConfig),
               let r = try? await ChildProcess.run(ProcessSpec(executable: pgConfig, arguments: ["--bindir"])), r.succeeded {
                candidates.append(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
                break
            }
        }
        candidates += (environment["PATH"] ?? "").split(separator: ":").map(String.init)
        candidates += versionedDirectories()
        for c in candidates {
            let b = PostgresBinaries(directory: c)
            if b.has("initdb") && b.has("postgres") { return b }
        }
        return nil
    }

    /// The server programs of `postgres` (chosen for the backup's major), else the first PostgreSQL found; throws
    /// `noPostgres` saying where it looked.
    public static func forServer(_ postgres: PostgresInstallation?) async throws -> PostgresBinaries {
        let found: PostgresBinaries? = if let postgres { postgres.binaries } else { await discover() }
        guard let found else {
            throw DrillError(.noPostgres,
                             "no PostgreSQL server binaries found (looked at $DRILL_PG_BINDIR, pg_config --bindir, PATH, /usr/lib/postgresql/*/bin); install the postgresql package")
        }
        return found
    }

    /// `/usr/lib/postgresql/<major>/bin`, newest major first.
    static func versionedDirectories() -> [String] {
        let base = "/usr/lib/postgresql"
        let majors = ((try? FileManager.default.contentsOfDirectory(atPath: base)) ?? []).compactMap { Int($0) }
        return majors.sorted(by: >).map { "\(base)/\($0)/bin" }
    }

    /// Client tools (`pg_restore`, `psql`, `gzip`) for a restore: from this folder when present, else from `PATH`.
    public func tool(_ name: String) -> String {
        if has(name) { return path(name) }
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let p = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return name
    }

    /// `pg_restore (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)` → `15.18`.
    public static func version(of tool: String) async -> String {
        guard let r = try? await ChildProcess.run(ProcessSpec(executable: tool, arguments: ["--version"])), r.succeeded else {
            return "unknown"
        }
        let words = r.stdout.split(separator: " ")
        if let i = words.firstIndex(of: "(PostgreSQL)"), i + 1 < words.count {
            return String(words[i + 1]).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
