import DrillCore
import DrillLive
import DrillTesting
import Foundation
import Testing

@Suite("Restoring pg_dump backups into the embedded scratch cluster", .timeLimit(.minutes(5)))
struct DumpRestoreTests {
    @Test("each pg_dump format restores and the checks see the right row counts",
          arguments: [BackupFormat.custom, .directory, .tar, .plain, .plainGzip])
    func eachFormat(format: BackupFormat) async throws {
        let folder = TempFolder("fmt")
        let backups = folder.sub("backups")
        _ = try copy(try await Shop.shared.dump(format), into: backups, as: "shop-latest")
        let report = try await runDrill(ConfigFixture.drill(location: backups, checks: ConfigFixture.shopChecks(orders: Shop.orders)),
                                        in: folder)
        #expect(report.status == .compliant, "findings: \(report.findings)")
        #expect(report.backup.format == format.rawValue)
        #expect(report.checks.map(\.observed) == ["100000", "\(Shop.orders)", "0"])
        #expect(report.checks.allSatisfy { $0.passed })
        #expect(report.phases.map(\.name).sorted() == ["checks", "fetch", "provision", "restore"])
        #expect(report.measured.rtoSeconds != nil)
        #expect(report.backup.sha256?.count == 64)
        #expect(report.scratch.removed)
        let expectedSource = format.usesPgRestore ? "archive_header" : "file_mtime"
        #expect(report.measured.recoveryPointSource == expectedSource)
        if format == .plain || format == .plainGzip {
            // The orders table belongs to a role the scratch cluster does not have: OWNER TO and GRANT were skipped.
            #expect(report.findings.contains { $0.contains("OWNER TO / GRANT / REVOKE") })
        }
        expectNothingLeft(folder)
    }

    @Test("the newest backup by modification time is chosen, not the last by name")
    func latestIsChosen() async throws {
        let folder = TempFolder("latest")
        let backups = folder.sub("backups")
        try await SourceDatabase.shared.createShop("shop_latest", orders: 10)
        try await SourceDatabase.shared.dump("shop_latest", to: (backups as NSString).appendingPathComponent("shop-b.dump"), format: .custom)
        try await SourceDatabase.shared.psql("INSERT INTO orders (account, created_at) SELECT i, now() FROM generate_series(1, 15) i",
                                             database: "shop_latest")
        try await SourceDatabase.shared.dump("shop_latest", to: (backups as NSString).appendingPathComponent("shop-a.dump"), format: .custom)
        try await SourceDatabase.shared.dump("shop_latest", to: (backups as NSString).appendingPathComponent("other.dump"), format: .custom)
        let now = Date()
        try setModified((backups as NSString).appendingPathComponent("shop-b.dump"), now.addingTimeInterval(-3600))
        try setModified((backups as NSString).appendingPathComponent("shop-a.dump"), now.addingTimeInterval(-60))
        try setModified((backups as NSString).appendingPathComponent("other.dump"), now)  // newest, but not matched
        let checks = #"[ { "name": "orders", "sql": "SELECT count(*) FROM orders", "expect": { "equals": 25 } } ]"#
        let report = try await runDrill(ConfigFixture.drill(location: backups, pattern: "shop-*.dump", checks: checks), in: folder)
        #expect(report.backup.name == "shop-a.dump")
        #expect(report.checks.first?.observed == "25")
        #expect(report.status == .compliant, "findings: \(report.findings)")
        expectNothingLeft(folder)
    }

    @Test("a failing check makes the drill non-compliant while a passing one passes")
    func failingCheck() async throws {
        let folder = TempFolder("check")
        let backups = folder.sub("backups")
        _ = try copy(try await Shop.shared.dump(.custom), into: backups, as: "shop.dump")
        let checks = """
            [ { "name": "accounts exist", "sql": "SELECT count(*) FROM pgbench_accounts", "expect": { "min": 1 } },
              { "name": "impossible", "sql": "SELECT count(*) FROM pgbench_accounts", "expect": { "max": 10 } },
              { "name": "orders fresh", "sql": "SELECT max(created_at) FROM orders", "expect": { "within": "rpo" } },
              { "name": "bad sql", "sql": "SELECT nope FROM nowhere", "expect": { "equals": 1 } },
              { "name": "read only", "sql": "CREATE TABLE x (i int)", "expect": { "rows": { "max": 0 } } } ]
            """
        let report = try await runDrill(ConfigFixture.drill(location: backups, checks: checks), in: folder)
        #expect(report.status == .nonCompliant)
        #expect(report.checks.map(\.passed) == [true, false, true, false, false])
        #expect(report.checks[1].error?.contains("above the maximum 10") == true)
        #expect(report.checks[3].error?.contains("nowhere") == true)
        #expect(report.checks[4].error?.contains("read-only") == true)
        #expect(report.measured.rtoSeconds != nil)
        expectNothingLeft(folder)
    }

    @Test("an RPO over target (an old backup) is non-compliant", arguments: [BackupFormat.custom, .plain])
    func oldBackup(format: BackupFormat) async throws {
        let folder = TempFolder("rpo")
        let backups = folder.sub("backups")
        let path = try copy(try await Shop.shared.dump(format), into: backups, as: "shop.bak")
        if format == .custom {
            // Rewrite the year in the archive header: the same real dump, created "one year earlier".
            try ArchiveFixture.shiftCreationYear(path, by: -1)
        } else {
            try setModified(path, Date().addingTimeInterval(-2 * 86_400))
        }
        let report = try await runDrill(ConfigFixture.drill(location: backups), in: folder)
        #expect(report.status == .nonCompliant)
        #expect(report.measured.rpoSeconds.map { $0 > 86_400 } == true)
        #expect(report.findings.contains { $0.contains("Measured RPO") && $0.contains("exceeds") })
        expectNothingLeft(folder)
    }

    @Test("a truncated or corrupted backup fails, says why, and leaves nothing behind",
          arguments: [("custom", "truncate"), ("custom", "corrupt"), ("plain", "truncate"), ("plain.gz", "truncate"),
                      ("directory", "corrupt")])
    func damagedBackup(format: String, damage: String) async throws {
        let folder = TempFolder("damage")
        let backups = folder.sub("backups")
        let f = try #require(BackupFormat(rawValue: format))
        let path = try copy(try await Shop.shared.dump(f), into: backups, as: "shop.bak")
        let target = f == .directory ? try ArchiveFixture.largestDataFile(in: path) : path
        if damage == "truncate" { try ArchiveFixture.truncate(target, keeping: 0.6) } else { try ArchiveFixture.corrupt(target) }
        let report = try await runDrill(ConfigFixture.drill(location: backups, checks: ConfigFixture.shopChecks(orders: Shop.orders)),
                                        in: folder)
        #expect(report.status == .failed)
        #expect(report.measured.rtoSeconds == nil)
        #expect(!report.findings.isEmpty)
        #expect(report.phases.contains { $0.name == "restore" && !$0.ok })
        #expect(report.scratch.removed)
        expectNothingLeft(folder)
    }

    @Test("a missing backup folder or no matching backup fails cleanly")
    func missingBackup() async throws {
        let folder = TempFolder("missing")
        let report = try await runDrill(ConfigFixture.drill(location: folder.file("nowhere")), in: folder)
        #expect(report.status == .failed)
        #expect(report.findings.first?.contains("does not exist") == true)
        let empty = folder.sub("empty")
        let r2 = try await runDrill(ConfigFixture.drill(location: empty, pattern: "*.dump"), in: folder)
        #expect(r2.status == .failed)
        #expect(r2.findings.first?.contains("no backup matching") == true)
        expectNothingLeft(folder)
    }
}
