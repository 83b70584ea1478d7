import DrillCore
import DrillTesting
import Foundation
import Testing

@Suite("Retention coverage")
struct RetentionCoverageTests {
    let now = ReportFixtures.date("2026-11-30T06:00:00Z")
    func daily(_ days: [Int]) -> [Date] { days.map { now.addingTimeInterval(-Double($0) * 86_400 - 3_600) } }

    @Test func thirtyNightlyBackupsKeepTheirPromises() {
        let c = RetentionCoverage(times: daily(Array(0..<31)), now: now, retention: DrillDuration(parsing: "30d"),
                                  interval: DrillDuration(parsing: "1d"))
        #expect(c.count == 31)
        #expect(c.findings.isEmpty, "\(c.findings)")
        #expect(c.largestGapSeconds == 86_400)
    }

    @Test func aMissedNightAndEarlyDeletionAreFindings() {
        let c = RetentionCoverage(times: daily(Array(0..<12) + Array(13..<20)), now: now, retention: DrillDuration(parsing: "30d"),
                                  interval: DrillDuration(parsing: "1d"))
        #expect(c.findings.count == 2, "\(c.findings)")
        #expect(c.findings.contains { $0.contains("younger than the promised retention of 30d") })
        #expect(c.findings.contains { $0.contains("gap of 2d") && $0.contains("a backup was missed") })
        #expect(c.largestGapFrom == daily([13])[0])
    }

    @Test func stoppedBackupsAndNoPromise() {
        let stopped = RetentionCoverage(times: daily([3, 4, 5]), now: now, retention: nil, interval: DrillDuration(parsing: "1d"))
        #expect(stopped.findings.contains { $0.contains("backups have stopped") })
        let none = RetentionCoverage(times: daily([40]), now: now, retention: nil, interval: nil)
        #expect(none.findings.isEmpty)
        #expect(RetentionCoverage(times: [], now: now, retention: DrillDuration(parsing: "7d"), interval: nil).findings == ["No restore point was found."])
    }

    @Test func tiersParseThePromises() throws {
        let r = ConfigReader(file: "tiers.json")
        let t = TiersFile.parse(try JSONValue.parse(Data(#"{ "version": 1, "tiers": { "std": { "rto": "24h", "rpo": "24h", "retention": "30d", "backup_interval": "1d" }, "bad": { "rto": "1h", "rpo": "1h", "retention": "a month" } } }"#.utf8)), reader: r)
        let month: Int64 = 30 * 86_400
        #expect(t?.tiers["std"]?.retention?.seconds == month)
        #expect(t?.tiers["std"]?.backupInterval?.seconds == 86_400)
        #expect(r.issues.map(\.description).contains { $0.hasPrefix("tiers.json: tiers.bad.retention: not a duration") }, "\(r.issues)")
    }
}
