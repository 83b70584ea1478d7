import DrillCore
import DrillLive
import DrillTesting
import Foundation
import Testing

/// A tier that promises 30 days of nightly backups, against a folder of real dumps with a missing night.
@Suite("Retention coverage of real backups", .timeLimit(.minutes(3)))
struct RetentionTests {
    @Test("drill plan lists the restore points and the broken promises; the drill is non-compliant for them")
    func missedNight() async throws {
        let folder = TempFolder("retention")
        let backups = folder.sub("backups")
        let dump = try await Shop.shared.dump(.custom)
        let now = Date()
        // Nightly for 20 days, night 6 missing: younger than the promised 30 days, with a 2-day gap.
        for day in (0..<20) where day != 6 {
            let path = try copy(dump, into: backups, as: "shop-\(day).dump")
            try setModified(path, now.addingTimeInterval(-Double(day) * 86_400 - 3_600))
        }
        let tiers = """
            { "version": 1, "tiers": { "standard": { "rto": "24h", "rpo": "48h", "retention": "30d", "backup_interval": "1d" } } }
            """
        let config = try ConfigFixture(in: folder, tiers: tiers, drills: ["shop": ConfigFixture.drill(tier: "standard", location: backups)])
        let plan = try await DrillBinary.run(["plan", "--config", config.directory, "--archive", folder.sub("archive")])
        #expect(plan.exitCode == 0, "\(plan.output)")
        #expect(plan.stdout.contains("restore points: 19"), "\(plan.stdout)")
        #expect(plan.stdout.contains("largest gap 2d"), "\(plan.stdout)")
        #expect(plan.stdout.contains("younger than the promised retention of 30d"), "\(plan.stdout)")
        #expect(plan.stdout.contains("a backup was missed"), "\(plan.stdout)")

        let archive = folder.sub("archive")
        let run = try await DrillBinary.run(["run", "shop", "--config", config.directory, "--archive", archive],
                                            environment: ["TMPDIR": folder.sub("scratch")])
        #expect(run.exitCode == 1, "\(run.output)")
        let archived = try #require(try await ReportArchive(storage: LocalArchiveStorage(root: archive)).reports().reports.last?.report)
        #expect(archived.status == .nonCompliant)
        #expect(archived.coverage?.count == 19)
        #expect(archived.findings.contains { $0.contains("a backup was missed") }, "\(archived.findings)")
        expectNothingLeft(folder)
    }
}
