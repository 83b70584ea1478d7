import DrillCore
import DrillLive
import DrillTesting
import Foundation
import Testing

/// Reports as the archive really stores them, written by real drills of each method and decoded back from disk: every
/// field the schema promises (`method`, `wal`, `failure_code`) is in the file and survives decoding.
@Suite("Archived reports decode as written", .serialized, .timeLimit(.minutes(5)))
struct ArchivedReportsTests {
    @Test("dump and basebackup drills, compliant and failed: the archived JSON decodes to the same report, byte for byte")
    func archivedReportsDecode() async throws {
        let folder = TempFolder("archived")
        let good = folder.sub("good"), bad = folder.sub("bad")
        _ = try copy(try await Shop.shared.dump(.custom), into: good, as: "shop.dump")
        let corrupt = try copy(try await Shop.shared.dump(.custom), into: bad, as: "shop.dump")
        try ArchiveFixture.truncate(corrupt, keeping: 0.5)
        // A source of its own: the physical suites compare the shared source's WAL archive before and after their
        // drills, and a base backup taken here meanwhile would add files to it.
        let source = PhysicalSource()
        let backups = folder.sub("backups")
        try await source.createLedger("archived")
        try await source.baseBackup(into: (backups as NSString).appendingPathComponent("base"), ["-Ft"])
        let (_, walArchive) = try await source.start()
        try await source.switchWAL()
        let config = try ConfigFixture(in: folder, drills: [
            "dumpok": ConfigFixture.drill(location: good),
            "dumpbroken": ConfigFixture.drill(location: bad),
            "base": PhysicalRestoreTests.drill(backups: backups, wal: walArchive, database: "archived"),
        ])
        let archive = folder.sub("archive")
        let r = try await DrillBinary.run(["run", "--all", "--config", config.directory, "--archive", archive],
                                          environment: ["TMPDIR": folder.sub("scratch")])
        #expect(r.exitCode == 3, "\(r.output)")

        let files = try FileManager.default.subpathsOfDirectory(atPath: archive)
            .filter { $0.hasSuffix(".json") && !$0.hasPrefix("chain") }
        #expect(files.count == 3, "\(files)")
        var byDrill: [String: (raw: [String: Any], report: DrillReport)] = [:]
        for file in files {
            let data = try Data(contentsOf: URL(fileURLWithPath: (archive as NSString).appendingPathComponent(file)))
            let report = try DrillReport.decoder().decode(DrillReport.self, from: data)
            #expect(String(decoding: try report.jsonData(), as: UTF8.self) == String(decoding: data, as: UTF8.self),
                    "\(file) does not re-encode to the bytes the archive holds")
            byDrill[report.drill] = (try JSONSerialization.jsonObject(with: data) as! [String: Any], report)
        }
        let ok = try #require(byDrill["dumpok"]), broken = try #require(byDrill["dumpbroken"]), base = try #require(byDrill["base"])
        #expect(ok.raw["method"] as? String == "dump")
        #expect(ok.report.status == .compliant)
        #expect(broken.raw["failure_code"] as? String == "restore_failed")
        #expect(broken.report.failureCode == "restore_failed")
        #expect(base.raw["method"] as? String == "basebackup")
        #expect(base.report.status == .compliant, "\(base.report.findings)")
        let wal = try #require(base.raw["wal"] as? [String: Any], "the archived basebackup report has no wal block")
        #expect(wal["location"] as? String == walArchive)
        #expect(base.report.wal?.segmentsFetched ?? 0 > 0)
        #expect(ok.raw["wal"] == nil)
    }
}
