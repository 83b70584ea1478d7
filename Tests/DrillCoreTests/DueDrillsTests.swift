import DrillCore
import DrillTesting
import Foundation
import Testing

@Suite("Due drills and missed runs")
struct DueDrillsTests {
    let d = ReportFixtures.date
    let config = ConfigFixtures.folder(tiers: [("gold", "@monthly"), ("silver", "0 3 * * 1")],
                                       drills: [("shop", "gold"), ("billing", "gold"), ("wiki", "silver")])

    func run(_ drill: String, _ at: String, _ status: DrillStatus = .compliant) -> DrillReport {
        ReportFixtures.report(drill: drill, tier: drill == "wiki" ? "silver" : "gold", status: status, startedAt: d(at))
    }

    @Test func neverRunDrillsAreDue() {
        let due = dueDrills(config: config, reports: [], now: d("2026-03-10T00:00:00Z"))
        #expect(due.map(\.drill) == ["shop", "billing", "wiki"])
        #expect(due.allSatisfy { $0.lastRun == nil && $0.missedPeriods == 0 })
        #expect(due[0].dueSince == d("2026-03-01T00:00:00Z"))
        #expect(due[2].dueSince == d("2026-03-09T03:00:00Z"))  // Monday 9 March 2026
    }

    @Test(arguments: [
        // (last run of shop, now, due?, missed periods)
        ("2026-01-31T23:59:00Z", "2026-02-01T00:00:00Z", true, 0),  // a new month began this minute
        ("2026-01-31T23:59:00Z", "2026-01-31T23:59:59Z", false, 0),  // same month, just before the boundary
        ("2026-02-01T00:00:00Z", "2026-02-01T00:00:00Z", false, 0),  // ran exactly at the instant
        ("2026-02-01T00:00:30Z", "2026-02-28T23:59:59Z", false, 0),
        ("2026-02-01T00:00:30Z", "2026-03-01T00:00:00Z", true, 0),
        ("2026-01-15T00:00:00Z", "2026-03-02T00:00:00Z", true, 1),  // February was missed
        ("2025-12-31T23:00:00Z", "2026-01-01T00:00:00Z", true, 0),  // across a year boundary
        ("2025-11-15T00:00:00Z", "2026-03-31T23:59:59Z", true, 3),  // Dec, Jan, Feb missed
    ])
    func monthlyBoundaries(_ last: String, _ now: String, _ isDue: Bool, _ missed: Int) {
        let due = dueDrills(config: config, reports: [run("shop", last)], now: d(now))
        let shop = due.first { $0.drill == "shop" }
        #expect((shop != nil) == isDue)
        if let shop {
            #expect(shop.missedPeriods == missed)
            #expect(shop.lastRun == d(last))
        }
        #expect(due.contains { $0.drill == "billing" })  // billing never ran
    }

    @Test func failedRunsCountAbortedRunsDoNot() {
        let now = d("2026-03-10T00:00:00Z")
        let reports = [run("shop", "2026-03-01T00:01:00Z", .failed), run("billing", "2026-03-01T00:01:00Z", .aborted)]
        let due = dueDrills(config: config, reports: reports, now: now).map(\.drill)
        #expect(!due.contains("shop"))
        #expect(due.contains("billing"))
    }

    @Test func missedMonthsShowInTheAuditRange() {
        let reports = [run("shop", "2026-01-01T00:05:00Z"), run("shop", "2026-03-01T00:05:00Z"),
                       run("shop", "2026-04-01T00:05:00Z", .aborted), run("billing", "2026-01-10T00:00:00Z"),
                       run("billing", "2026-02-10T00:00:00Z"), run("billing", "2026-03-10T00:00:00Z"),
                       run("billing", "2026-04-10T00:00:00Z")]
        let missed = missedRuns(config: config, reports: reports, range: d("2026-01-01T00:00:00Z")..<d("2027-01-01T00:00:00Z"),
                                now: d("2026-05-20T00:00:00Z"))
        let shop = missed.filter { $0.drill == "shop" }.compactMap(\.period?.lowerBound)
        // February had no run; April's only run was aborted; May is still open.
        #expect(shop == [d("2026-02-01T00:00:00Z"), d("2026-04-01T00:00:00Z")])
        #expect(!missed.contains { $0.drill == "billing" })
        #expect(missed.contains { $0.drill == "wiki" && $0.period == nil })
    }

    @Test func missedRunsStartAtTheFirstRun() {
        let reports = [run("billing", "2026-06-03T00:00:00Z")]
        let missed = missedRuns(config: config, reports: reports, range: d("2026-01-01T00:00:00Z")..<d("2027-01-01T00:00:00Z"),
                                now: d("2026-08-02T00:00:00Z"))
        #expect(missed.filter { $0.drill == "billing" }.compactMap(\.period?.lowerBound) == [d("2026-07-01T00:00:00Z")])
    }
}
