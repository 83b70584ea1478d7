import DrillCore
import Foundation

/// The live `PostgresCatalog`: every PostgreSQL installed on this host, each folder's version read from its programs
/// (`postgres --version`, else `pg_restore --version`), and the compressed archives it reads (`CompressionProbe`).
///
/// Order of preference: `restore.postgres` of the drill (alone); else `$DRILL_PG_BINDIR` (or `$DRILL_PG_BIN`; a
/// colon-separated list of bin folders, which are then the only candidates); else `pg_config --bindir` of the first
/// `pg_config` on `PATH`, the `PATH` folders that hold PostgreSQL, and `/usr/lib/postgresql/<major>/bin`, newest
/// first. A folder is listed once (by its resolved path).
public struct LivePostgresCatalog: PostgresCatalog {
    public var environment: [String: String]

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) { self.environment = environment }

    public func inventory(for drill: DrillConfig) async -> PostgresInventory {
        if let bin = drill.restore.postgres {
            return await Self.inventory(of: [(bin, "restore.postgres")], searched: "restore.postgres \(bin)", explicit: true)
        }
        return await Self.discover(environment: environment)
    }

    /// The explicit list of `DRILL_PG_BINDIR` / `DRILL_PG_BIN`, if set.
    static func explicitFolders(_ env: [String: String]) -> (name: String, folders: [String])? {
        for name in ["DRILL_PG_BINDIR", "DRILL_PG_BIN"] {
            if let v = env[name], !v.isEmpty {
                return (name, v.split(separator: ":").map(String.init).filter { !$0.isEmpty })
            }
        }
        return nil
    }

    /// Every installation the environment offers, in order of preference.
    public static func discover(environment env: [String: String] = ProcessInfo.processInfo.environment) async -> PostgresInventory {
        if let (name, folders) = explicitFolders(env) {
            return await inventory(of: folders.map { ($0, name) }, searched: "\(name)=\(folders.joined(separator: ":"))", explicit: true)
        }
        var candidates: [(String, String)] = []
        let path = (env["PATH"] ?? "").split(separator: ":").map(String.init)
        for dir in path {
            let pgConfig = (dir as NSString).appendingPathComponent("pg_config")
            if FileManager.default.isExecutableFile(atPath: pgConfig),
               let r = try? await ChildProcess.run(ProcessSpec(executable: pgConfig, arguments: ["--bindir"])), r.succeeded {
                candidates.append((r.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "pg_config"))
                break
            }
        }
        candidates += path.map { ($0, "PATH") }
        candidates += PostgresBinaries.versionedDirectories().map { ($0, "/usr/lib/postgresql") }
        return await inventory(of: candidates, searched: "pg_config --bindir, PATH, /usr/lib/postgresql/*/bin", explicit: false)
    }

    /// The installations among `folders`; with `explicit`, a named folder without PostgreSQL is listed as unusable.
    static func inventory(of folders: [(String, String)], searched: String, explicit: Bool) async -> PostgresInventory {
        var seen: Set<String> = []
        var found: [PostgresInstallation] = []
        var unusable: [String] = []
        for (dir, origin) in folders {
            let resolved = (dir as NSString).resolvingSymlinksInPath
            guard seen.insert(resolved).inserted else { continue }
            let b = PostgresBinaries(directory: dir)
            let hasServer = b.has("initdb") && b.has("postgres")
            // A folder of client tools only counts when it was named: PATH's /usr/bin holds Debian's wrappers.
            guard hasServer || (explicit && b.has("pg_restore")) else {
                if explicit { unusable.append(dir) }
                continue
            }
            let probe = hasServer ? b.path("postgres") : b.path("pg_restore")
            guard let version = PostgresVersion(parsing: await PostgresBinaries.version(of: probe)) else {
                unusable.append(dir)
                continue
            }
            found.append(PostgresInstallation(directory: dir, version: version, origin: origin, hasServer: hasServer,
                                              compression: await CompressionProbe.support(of: b, major: version.major)))
        }
        return PostgresInventory(installations: found, searched: searched, unusable: unusable)
    }
}

extension PostgresInstallation {
    /// The installation's programs.
    public var binaries: PostgresBinaries { PostgresBinaries(directory: directory) }
}
