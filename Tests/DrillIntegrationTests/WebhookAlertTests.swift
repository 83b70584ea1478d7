import DrillCore
import DrillLive
import DrillTesting
import Foundation
import Testing

/// Alerts over real libcurl to a real HTTP server on 127.0.0.1 (Tests/fixtures/webhook_server.py).
@Suite("Webhook alerts over libcurl", .serialized)
struct WebhookAlertTests {
    func publisher(webhook: String, archiveDir: String, budget: Double = 15) -> ReportPublisher {
        let config = ConfigFixtures.folder(tiers: [("gold", "@monthly")], drills: [("shop", "gold"), ("billing", "gold"), ("wiki", "gold")],
                                           webhook: webhook)
        let delivery = AlertDelivery(poster: CurlWebhookPoster(), attempts: 3, initialBackoffSeconds: 0.2, budgetSeconds: budget,
                                     requestTimeoutSeconds: 2, now: { Date() },
                                     sleep: { try? await Task.sleep(for: .seconds($0)) })
        return ReportPublisher(archive: ReportArchive(storage: LocalArchiveStorage(root: archiveDir)), config: config, delivery: delivery)
    }

    @Test func exactlyOneAlertPerFailedOrNonCompliantDrill() async throws {
        let server = try WebhookReceiver()
        defer { server.stop() }
        let folder = TempFolder("alerts")
        defer { folder.remove() }
        let dir = folder.path
        let p = publisher(webhook: server.url, archiveDir: dir)
        let start = ReportFixtures.date("2026-03-01T00:00:00Z")
        let runs: [(String, DrillStatus)] = [("shop", .compliant), ("billing", .failed), ("wiki", .nonCompliant), ("shop", .compliant)]
        for (i, (drill, status)) in runs.enumerated() {
            let published = await p.publish(ReportFixtures.report(drill: drill, status: status, startedAt: start.addingTimeInterval(Double(i) * 60)))
            #expect(published.archived != nil)
            #expect(published.alert?.delivered == (status == .compliant ? nil : true))
        }
        let requests = try server.requests()
        #expect(requests.count == 2)
        #expect(requests.allSatisfy { $0["content_type"] == "application/json" && $0["path"] == "/services/T000/B000/secret" })
        let texts = requests.compactMap { r in
            (try? JSONSerialization.jsonObject(with: Data((r["body"] ?? "").utf8)) as? [String: String])?["text"]
        }
        #expect(texts.count == 2)
        #expect(texts[0].hasPrefix("drill billing [gold]: FAILED"))
        #expect(texts[1].hasPrefix("drill wiki [gold]: NON-COMPLIANT"))
    }

    @Test func aDeadWebhookDoesNotFailOrDelayTheRunBeyondItsBudget() async throws {
        // A port that was just free: connections are refused.
        let server = try WebhookReceiver()
        let deadURL = server.url
        server.stop()
        let folder = TempFolder("dead-alerts")
        defer { folder.remove() }
        let dir = folder.path
        let p = publisher(webhook: deadURL, archiveDir: dir, budget: 3)
        let started = Date()
        let published = await p.publish(ReportFixtures.report(status: .failed))
        let elapsed = Date().timeIntervalSince(started)
        #expect(published.archived != nil)  // the report is archived first, whatever the webhook does
        #expect(published.archiveError == nil)
        #expect(published.alert?.delivered == false)
        #expect(published.alert?.attempts == 3)
        #expect(published.alert?.lastError?.contains("127.0.0.1") == false)  // no URL (a secret) in messages
        #expect(elapsed < 4.5)  // the 3 s budget, plus slack for a loaded CI machine
        #expect(try await ReportArchive(storage: LocalArchiveStorage(root: dir)).verify().intact)
    }

    @Test func alertTestCommandReachesTheWebhook() async throws {
        let server = try WebhookReceiver()
        defer { server.stop() }
        let folder = TempFolder("alert-test")
        defer { folder.remove() }
        let dir = folder.path
        try DemoArchive.writeConfig(to: dir, webhook: server.url)
        let r = try await DrillBinary.run(["alert", "test", "--config", dir])
        #expect(r.exitCode == 0, "\(r.stdout)\(r.stderr)")
        #expect(try server.requests().count == 1)
        #expect(!r.stdout.contains("secret"))
    }
}
