import DrillCore
import DrillTesting
import Foundation
import Testing

@Suite("Alerts")
struct AlertTests {
    let config = ConfigFixtures.folder(tiers: [("gold", "@monthly")], drills: [("shop", "gold")], webhook: "http://127.0.0.1:9/hook")

    @Test(arguments: DrillStatus.allCases)
    func oneAlertPerNonCompliantFailedOrAbortedRun(_ status: DrillStatus) throws {
        let a = alert(for: ReportFixtures.report(status: status), config: config)
        #expect((a != nil) == (status != .compliant))
        if let a {
            #expect(a.webhook == "http://127.0.0.1:9/hook")
            #expect(a.text.contains(MarkdownReport.verdict(status)))
            let body = try JSONSerialization.jsonObject(with: a.body()) as? [String: String]
            #expect(body == ["text": a.text])
        }
    }

    @Test func drillWebhookOverridesTierWhichOverridesTop() {
        var c = config
        c.tiers.alerts = AlertsConfig(webhook: "http://top")
        #expect(webhook(for: c.drills[0], tier: "gold", in: c.tiers) == "http://127.0.0.1:9/hook")
        c.drills[0].alerts = AlertsConfig(webhook: "http://drill")
        #expect(webhook(for: c.drills[0], tier: "gold", in: c.tiers) == "http://drill")
        c.drills[0].alerts = nil
        c.tiers.tiers["gold"]?.alerts = nil
        #expect(webhook(for: c.drills[0], tier: "gold", in: c.tiers) == "http://top")
        c.tiers.alerts = nil
        #expect(alert(for: ReportFixtures.report(status: .failed), config: c) == nil)
    }

    @Test func missedScheduleAlertsOnlyForWholeMissedPeriods() {
        let d = ReportFixtures.date
        let owed = DueDrill(drill: "shop", tier: "gold", schedule: "@monthly", lastRun: d("2026-02-01T00:00:00Z"),
                            dueSince: d("2026-03-01T00:00:00Z"), missedPeriods: 0)
        #expect(alert(forMissed: owed, config: config) == nil)
        var missed = owed
        missed.missedPeriods = 2
        #expect(alert(forMissed: missed, config: config)?.text.contains("MISSED") == true)
    }

    @Test func retriesWithBackoffThenDelivers() async {
        let poster = FakeWebhookPoster(failures: 2)
        let clock = ManualWallClock(ReportFixtures.date("2026-03-01T00:00:00Z"))
        let delivery = AlertDelivery(poster: poster, attempts: 3, initialBackoffSeconds: 1, budgetSeconds: 15, now: clock.now, sleep: clock.sleep)
        let outcome = await delivery.deliver(Alert(webhook: "http://x", text: "t"))
        #expect(outcome == .init(delivered: true, attempts: 3, lastError: nil))
        #expect(clock.sleeps == [1, 2])
        #expect(await poster.posts.count == 3)
    }

    @Test func aDeadWebhookGivesUpWithinTheBudget() async {
        let poster = FakeWebhookPoster(failures: 100)
        let clock = ManualWallClock(ReportFixtures.date("2026-03-01T00:00:00Z"))
        let delivery = AlertDelivery(poster: poster, attempts: 10, initialBackoffSeconds: 2, budgetSeconds: 9, now: clock.now, sleep: clock.sleep)
        let outcome = await delivery.deliver(Alert(webhook: "http://x", text: "t"))
        #expect(!outcome.delivered)
        #expect(clock.sleeps.reduce(0, +) <= 9)
        #expect(clock.sleeps == [2, 4, 3])  // the last wait is cut to the budget
        #expect(outcome.lastError == "HTTP 503")
    }

    @Test func publisherArchivesBeforeAlertingAndAlertsOncePerFailedRun() async throws {
        let storage = MemoryArchiveStorage()
        let poster = FakeWebhookPoster(failures: 100)
        let clock = ManualWallClock(ReportFixtures.date("2026-03-01T00:00:00Z"))
        let publisher = ReportPublisher(archive: ReportArchive(storage: storage, digest: ReportFixtures.sha256), config: config,
                                        delivery: AlertDelivery(poster: poster, attempts: 2, now: clock.now, sleep: clock.sleep))
        let ok = await publisher.publish(ReportFixtures.report(status: .compliant))
        #expect(ok.archived != nil && ok.alert == nil)
        let bad = await publisher.publish(ReportFixtures.report(status: .failed, startedAt: ReportFixtures.date("2026-03-02T00:00:00Z")))
        #expect(bad.archived != nil)
        #expect(bad.alert?.delivered == false)
        #expect(await poster.posts.count == 2)  // two attempts for the one failed run
        #expect(try await ReportArchive(storage: storage, digest: ReportFixtures.sha256).verify().entries == 2)
    }
}
