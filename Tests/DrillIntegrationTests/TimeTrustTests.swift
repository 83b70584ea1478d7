import DrillCore
import DrillLive
import DrillTesting
import Foundation
import Testing

/// Backup times drill cannot trust, with real dumps: a file time in the future (`touch -d`), an archive header written
/// under a `TZ` far from the drill's, and a backup modified just now (maybe still being written).
@Suite("Time you can trust", .timeLimit(.minutes(5)))
struct TimeTrustTests {
    @Test("a plain dump with a file time a year ahead: a finding, RPO not measured and not met, never negative")
    func futureFileTime() async throws {
        let folder = TempFolder("future")
        let plain = folder.sub("plain"), custom = folder.sub("custom")
        try touch(try copy(try await Shop.shared.dump(.plain), into: plain, as: "shop.sql"), "+1 year")
        try touch(try copy(try await Shop.shared.dump(.custom), into: custom, as: "shop.dump"), "+1 year")

        let p = try await runDrill(ConfigFixture.drill(location: plain), in: folder)
        #expect(p.status == .nonCompliant, "\(p.findings)")
        #expect(p.measured.rpoSeconds == nil)
        #expect(p.measured.recoveryPointSource == "file_mtime")
        #expect(p.findings.contains { $0.contains("in the future of the drill's start") && $0.contains("clock skew on the backup host or a wrong TZ") },
                "\(p.findings)")
        #expect(p.findings.contains { $0.contains("RPO cannot be measured") })

        // A custom dump's recovery point is its header, which is right: the future file time is flagged, the RPO holds.
        let c = try await runDrill(ConfigFixture.drill(location: custom), in: folder)
        #expect(c.measured.recoveryPointSource == "archive_header")
        #expect(try #require(c.measured.rpoSeconds) >= 0)
        #expect(c.findings.contains { $0.contains("file time") && $0.contains("in the future") && $0.contains("\"the latest\"") }, "\(c.findings)")
        #expect(c.status == .compliant, "only the file time is wrong: \(c.findings)")
        expectNothingLeft(folder)
    }

    @Test("a custom dump made under TZ=UTC+14: its header is 14 hours ahead, a finding; under UTC-12 it is 12 hours old")
    func headerTimeZones() async throws {
        let folder = TempFolder("tz")
        let db = try await Shop.shared.database()
        let ahead = folder.sub("ahead"), behind = folder.sub("behind")
        // POSIX signs: Etc/GMT-14 is UTC+14, Etc/GMT+12 is UTC-12.
        try await SourceDatabase.shared.dump(db, to: (ahead as NSString).appendingPathComponent("shop.dump"), format: .custom,
                                             environment: ["TZ": "Etc/GMT-14"])
        try await SourceDatabase.shared.dump(db, to: (behind as NSString).appendingPathComponent("shop.dump"), format: .custom,
                                             environment: ["TZ": "Etc/GMT+12"])
        let drillZone = TimeZone.current.secondsFromGMT()
        let a = try await runDrill(ConfigFixture.drill(location: ahead), in: folder)
        #expect(a.status == .nonCompliant, "\(a.findings)")
        #expect(a.measured.rpoSeconds == nil, "never a negative RPO")
        #expect(a.measured.recoveryPointSource == "archive_header")
        let skew = try #require(a.measured.recoveryPoint).timeIntervalSince(a.startedAt)
        #expect(abs(skew - Double(14 * 3600 - drillZone)) < 120, "header \(skew) s ahead")
        #expect(a.findings.contains { $0.contains("in the future of the drill's start") && $0.contains("wrong TZ") }, "\(a.findings)")

        let b = try await runDrill(ConfigFixture.drill(location: behind), in: folder)
        let rpo = try #require(b.measured.rpoSeconds)
        #expect(abs(rpo - Double(12 * 3600 + drillZone)) < 120, "RPO \(rpo) s")
        #expect(b.status == .nonCompliant)
        #expect(b.findings.contains { $0.contains("Measured RPO") && $0.contains("exceeds") })
        expectNothingLeft(folder)
    }

    @Test("a backup modified just now is skipped (backup.settle, 60 s by default) with a note; alone, nothing is restored")
    func settle() async throws {
        let folder = TempFolder("settle")
        let backups = folder.sub("backups")
        let old = try copy(try await Shop.shared.dump(.custom), into: backups, as: "shop-1.dump")
        try touch(old, "-2 hours")
        _ = try copy(try await Shop.shared.dump(.custom), into: backups, as: "shop-2.dump")  // modified now: "being written"
        let r = try await runDrill(ConfigFixture.drill(location: backups, pattern: "shop-*.dump", settle: nil), in: folder)
        #expect(r.backup.name == "shop-1.dump")
        #expect(r.status == .compliant, "\(r.findings)")
        #expect(r.findings.contains { $0.hasPrefix("Skipped shop-2.dump, modified ") && $0.contains("backup.settle, 1m") && $0.contains("shop-1.dump") },
                "\(r.findings)")
        // With a shorter settle time the fresh one is restored.
        let short = try await runDrill(ConfigFixture.drill(location: backups, pattern: "shop-*.dump", settle: "0s"), in: folder)
        #expect(short.backup.name == "shop-2.dump")
        #expect(!short.findings.contains { $0.hasPrefix("Skipped") })

        let alone = folder.sub("alone")
        _ = try copy(try await Shop.shared.dump(.custom), into: alone, as: "shop.dump")
        let none = try await runDrill(ConfigFixture.drill(location: alone, settle: "10m"), in: folder)
        #expect(none.status == .failed)
        #expect(none.failureCode == "backup_not_found")
        #expect(none.findings.contains { $0.contains("no settled backup") && $0.contains("backup.settle (10m)") }, "\(none.findings)")
        expectNothingLeft(folder)
    }
}

/// `touch -d WHEN path`: sets a real file time with the real tool.
private func touch(_ path: String, _ when: String) throws {
    let r = try ToolProcess.run("/usr/bin/touch", ["-d", when, path])
    guard r.status == 0 else { throw DrillLiveError.io("touch -d \(when) \(path): \(r.stderr)") }
}
