import DrillCore
import DrillLive
import DrillTesting
import Foundation
import Testing

@Suite("Restoring into a scratch database on a given server", .timeLimit(.minutes(5)))
struct ServerTargetTests {
    @Test("a drill_… database is created, restored into, checked, and dropped; the password never shows")
    func createsAndDrops() async throws {
        let folder = TempFolder("server")
        let backups = folder.sub("backups")
        _ = try copy(try await Shop.shared.dump(.custom), into: backups, as: "shop.dump")
        let url = try await SourceDatabase.shared.passwordURL()
        let password = SourceDatabase.passwordRole.password
        let checks = """
            [ { "name": "in a drill database", "sql": "SELECT current_database()", "expect": { "matches": "^drill_shop_[0-9]{8}t[0-9]{6}z_[a-z0-9]{6}$" } },
              { "name": "orders restored", "sql": "SELECT count(*) FROM orders", "expect": { "equals": \(Shop.orders) } } ]
            """
        let config = try ConfigFixture(in: folder, drills: [
            "shop": ConfigFixture.drill(location: backups, target: #"{ "kind": "server", "url": "\#(url)" }"#, checks: checks),
        ])
        let archive = folder.sub("archive")
        let r = try await DrillBinary.run(["run", "shop", "--config", config.directory, "--archive", archive, "--log-level", "trace"],
                                          environment: ["TMPDIR": folder.sub("scratch")])
        #expect(r.exitCode == 0, "\(r.output)")
        let report = try #require(try await ReportArchive(storage: LocalArchiveStorage(root: archive)).reports().reports.first?.report)
        #expect(report.scratch.kind == "server")
        #expect(report.scratch.database?.hasPrefix("drill_shop_") == true)
        #expect(report.checks.first?.observed == report.scratch.database)
        #expect(report.scratch.removed)
        let scratchName = try #require(report.scratch.database)
        #expect(!(try await SourceDatabase.shared.databases().contains(scratchName)), "the scratch database must be dropped")
        // No password in the output or in any file of the archive.
        #expect(!r.output.contains(password))
        for file in try FileManager.default.subpathsOfDirectory(atPath: archive) {
            let text = (try? String(contentsOfFile: (archive as NSString).appendingPathComponent(file), encoding: .utf8)) ?? ""
            #expect(!text.contains(password), "\(file) shows the password")
        }
    }

    @Test("the tool refuses to restore into a database that already exists, and leaves it alone")
    func refusesExisting() async throws {
        let folder = TempFolder("exists")
        let backups = folder.sub("backups")
        _ = try copy(try await Shop.shared.dump(.custom), into: backups, as: "shop.dump")
        let existing = "drill_shop_existing_\(ScratchNaming.randomSuffix())"
        try await SourceDatabase.shared.psql("CREATE DATABASE \(existing)")
        try await SourceDatabase.shared.psql("CREATE TABLE precious (v text); INSERT INTO precious VALUES ('keep me')", database: existing)
        let url = try await SourceDatabase.shared.passwordURL()
        let report = try await runDrill(ConfigFixture.drill(location: backups, target: #"{ "kind": "server", "url": "\#(url)" }"#),
                                        in: folder, serverDatabaseName: { _, _ in existing })
        #expect(report.status == .failed)
        #expect(report.findings.first?.contains("already exists") == true)
        #expect(report.phases.contains { $0.name == "provision" && !$0.ok })
        #expect(try await SourceDatabase.shared.psql("SELECT v FROM precious", database: existing) == "keep me")
        try await SourceDatabase.shared.psql("DROP DATABASE \(existing)")
    }

    @Test("a wrong password fails the drill with a clear message that does not contain it")
    func wrongPassword() async throws {
        let folder = TempFolder("badpw")
        let backups = folder.sub("backups")
        _ = try copy(try await Shop.shared.dump(.custom), into: backups, as: "shop.dump")
        let url = try await SourceDatabase.shared.passwordURL().replacingOccurrences(of: SourceDatabase.passwordRole.password,
                                                                                   with: "Wr0ng-Secret-xyz")
        let report = try await runDrill(ConfigFixture.drill(location: backups, target: #"{ "kind": "server", "url": "\#(url)" }"#),
                                        in: folder)
        #expect(report.status == .failed)
        let text = String(decoding: try report.jsonData(), as: UTF8.self) + MarkdownReport.render(report)
        #expect(text.contains("password authentication failed"))
        #expect(!text.contains("Wr0ng-Secret-xyz"))
    }
}

@Suite("Plain SQL never leaves the scratch database", .timeLimit(.minutes(3)))
struct PlainSQLSafetyTests {
    @Test("a dump made with --create --clean fails on a server target and drops nothing")
    func createCleanDumpIsRefused() async throws {
        let folder = TempFolder("clean")
        let backups = folder.sub("backups")
        let db = "shop_clean_\(ScratchNaming.randomSuffix())"
        try await SourceDatabase.shared.createShop(db, orders: 5)
        let c = try await SourceDatabase.shared.start()
        let r = try await ChildProcess.run(ProcessSpec(executable: c.binaries.tool("pg_dump"),
                                                       arguments: ["--create", "--clean", "-d", db, "-f", (backups as NSString).appendingPathComponent("x.sql")],
                                                       environment: c.connection(database: db).environment, unsetEnvironment: ["PG*"]))
        #expect(r.succeeded)
        let url = try await SourceDatabase.shared.passwordURL()
        let report = try await runDrill(ConfigFixture.drill(location: backups, target: #"{ "kind": "server", "url": "\#(url)" }"#), in: folder)
        #expect(report.status == .failed)
        #expect(report.findings.first?.contains("DROP DATABASE") == true)
        #expect(try await SourceDatabase.shared.databases().contains(db), "the production-named database must survive")
        #expect(try await SourceDatabase.shared.psql("SELECT count(*) FROM orders", database: db) == "5")
        try await SourceDatabase.shared.psql("DROP DATABASE \(db)")
    }

    @Test("psql meta-commands hidden in a SQL file never run")
    func metaCommandsDoNotRun() async throws {
        let folder = TempFolder("meta")
        let backups = folder.sub("backups")
        let witness = folder.file("pwned")
        let sql = """
            --
            -- PostgreSQL database dump
            --
            CREATE TABLE t (i int);
            SELECT 1; \\! touch \(witness)
            --
            -- PostgreSQL database dump complete
            --

            """
        try sql.write(toFile: (backups as NSString).appendingPathComponent("evil.sql"), atomically: true, encoding: .utf8)
        let report = try await runDrill(ConfigFixture.drill(location: backups), in: folder)
        #expect(report.status == .failed)
        #expect(!FileManager.default.fileExists(atPath: witness), "a shell command from the backup ran")
        #expect(report.findings.first?.contains("psql failed") == true)
        expectNothingLeft(folder)
    }
}
