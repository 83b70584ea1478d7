import DrillCore
import DrillTesting
import Foundation
import Testing

/// The drill's state machine with fakes and a manual clock: RTO/RPO arithmetic, verdicts, teardown on every path.
@Suite("Drill runner logic")
struct DrillRunnerTests {
    let now = RFC3339.parse("2026-11-28T12:00:00Z")!
    let tier = TierConfig(name: "critical", rto: DrillDuration(seconds: 3600), rpo: DrillDuration(seconds: 300))

    /// A backup whose archive header says it was created `age` seconds before the drill (its file is an hour old: settled).
    func store(age: Int) -> FakeStore {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "UTC")!
        let c = cal.dateComponents([.year, .month, .day, .hour, .minute, .second], from: now.addingTimeInterval(-Double(age)))
        let head = BackupFormatTestsSupport.header(year: c.year! - 1900, month: c.month! - 1, day: c.day!, hour: c.hour!,
                                                   minute: c.minute!, second: c.second!)
        return FakeStore(object: BackupObject(uri: "/b/shop.dump", name: "shop.dump", sizeBytes: 10, modifiedAt: now.addingTimeInterval(-3600), localPath: nil),
                         head: head)
    }

    func drill(checks: Int = 2) -> DrillConfig {
        DrillConfig(name: "shop", tier: "critical", backup: BackupConfig(location: "/b"), restore: RestoreConfig(jobs: 2),
                    checks: (0..<checks).map { CheckConfig(name: "c\($0)", sql: "SELECT 1", expect: Expectation(min: 1)) })
    }

    func run(age: Int = 60, restore: FakeRestorer.Behaviour = .succeed(seconds: 10), value: String? = "5", rto: Int64 = 3600,
             keep: Bool = false) async -> (DrillReport, FakeLog) {
        let clock = ManualClock(), log = FakeLog()
        let deps = DrillDependencies.fake(store: store(age: age), restorer: FakeRestorer(clock: clock, behaviour: restore, log: log),
                                          provisioner: FakeProvisioner(clock: clock, seconds: 2, log: log),
                                          connector: FakeConnector(clock: clock, value: value, seconds: 0.5), now: now)
        var t = tier
        t.rto = DrillDuration(seconds: rto)
        let report = await DrillRunner(deps: deps, clock: clock).run(drill(), tier: t, keep: keep)
        return (report, log)
    }

    @Test func measuresRTOAndRPO() async {
        let (r, log) = await run()
        #expect(r.status == .compliant)
        #expect(r.measured.rtoSeconds == 13)  // 2 s provision + 10 s restore + 2 × 0.5 s checks
        #expect(r.measured.rpoSeconds == 60)
        #expect(r.measured.recoveryPointSource == "archive_header")
        #expect(r.phases.first { $0.name == "restore" }?.seconds == 10)
        #expect(r.phases.first { $0.name == "checks" }?.startOffsetSeconds == 12)
        #expect(log.events == ["provision", "restore", "teardown"])
        #expect(r.scratch.removed)
    }

    @Test func missedTargetsAreFindingsOfANonCompliantRun() async {
        let (slow, _) = await run(rto: 12)
        #expect(slow.status == .nonCompliant)
        #expect(slow.findings.contains { $0.hasPrefix("Measured RTO 13.00s exceeds") })
        let (old, _) = await run(age: 301)
        #expect(old.status == .nonCompliant)
        #expect(old.measured.rpoSeconds == 301)
        let (bad, _) = await run(value: "0")
        #expect(bad.status == .nonCompliant)
        #expect(bad.findings.contains { $0.contains("Check \"c0\" failed") })
    }

    @Test func aRestoreErrorFailsTheDrillAndTearsDown() async {
        let (r, log) = await run(restore: .fail(DrillError(.restoreFailed, "pg_restore failed (exit status 1): boom")))
        #expect(r.status == .failed)
        #expect(r.measured.rtoSeconds == nil)
        #expect(r.findings == ["pg_restore failed (exit status 1): boom"])
        #expect(log.events.last == "teardown")
        #expect(r.phases.contains { $0.name == "restore" && !$0.ok })
    }

    @Test func cancellationAbortsAndTearsDown() async {
        let clock = ManualClock(), log = FakeLog()
        let deps = DrillDependencies.fake(store: store(age: 1), restorer: FakeRestorer(clock: clock, behaviour: .hang, log: log),
                                          provisioner: FakeProvisioner(clock: clock, seconds: 1, log: log),
                                          connector: FakeConnector(clock: clock, value: "1", seconds: 0), now: now)
        let runner = DrillRunner(deps: deps, clock: clock)
        let task = Task { await runner.run(drill(), tier: tier) }
        while !log.events.contains("restore") { try? await Task.sleep(for: .milliseconds(5)) }
        task.cancel()
        let r = await task.value
        #expect(r.status == .aborted)
        #expect(ExitCode(r.status) == .interrupted)
        #expect(log.events.last == "teardown")
        #expect(r.scratch.removed)
    }

    @Test func keepLeavesTheScratchDatabase() async {
        let (r, log) = await run(keep: true)
        #expect(r.scratch.kept)
        #expect(!r.scratch.removed)
        #expect(!log.events.contains("teardown"))
    }

    @Test func noBackupFailsWithoutProvisioning() async {
        let clock = ManualClock(), log = FakeLog()
        let deps = DrillDependencies.fake(store: FakeStore(object: nil, head: []),
                                          restorer: FakeRestorer(clock: clock, behaviour: .succeed(seconds: 1), log: log),
                                          provisioner: FakeProvisioner(clock: clock, seconds: 1, log: log),
                                          connector: FakeConnector(clock: clock, value: "1", seconds: 0), now: now)
        let r = await DrillRunner(deps: deps, clock: clock).run(drill(), tier: tier)
        #expect(r.status == .failed)
        #expect(log.events.isEmpty)
        #expect(ExitCode(r.status) == .failed)
        // Nothing was created, so nothing was left: the report must not alarm an auditor with "not removed".
        #expect(r.scratch.removed && r.scratch.detail == "none was created", "\(r.scratch)")
        let markdown = MarkdownReport.render(r)
        #expect(!markdown.contains("not removed") && markdown.contains("none was created"), "\(markdown)")
    }
}

extension DrillRunnerTests {
    @Test("a recovery point after the drill's start is a finding and a missed RPO, never a negative RPO")
    func futureRecoveryPoint() async {
        let (r, _) = await run(age: -3 * 3600)  // the header says three hours from now: a dump made under a wrong TZ
        #expect(r.status == .nonCompliant)
        #expect(r.measured.rpoSeconds == nil)
        #expect(r.measured.recoveryPoint == now.addingTimeInterval(3 * 3600))
        #expect(r.findings.contains {
            $0.contains("is 3h in the future of the drill's start") && $0.contains("clock skew on the backup host or a wrong TZ")
        }, "\(r.findings)")
        #expect(r.findings.contains { $0.contains("RPO cannot be measured") })
        #expect(!r.findings.contains { $0.contains("is unknown") })
    }

    @Test("settling: only a backup modified at least backup.settle before the drill counts")
    func settling() {
        let o = { (age: Double) in BackupObject(uri: "/b/x", name: "x", sizeBytes: 1, modifiedAt: now.addingTimeInterval(-age)) }
        let settle = DrillDuration(seconds: 60)
        #expect(BackupLocator.isSettling(o(0), now: now, settle: settle))
        #expect(BackupLocator.isSettling(o(59.9), now: now, settle: settle))
        #expect(!BackupLocator.isSettling(o(60), now: now, settle: settle))
        #expect(!BackupLocator.isSettling(o(-5), now: now, settle: settle), "a future time is flagged, not waited for")
        #expect(!BackupLocator.isSettling(o(0), now: now, settle: DrillDuration(seconds: 0)))
    }
}

extension DrillRunnerTests {
    @Test("a drill past restore.timeout is stopped, torn down and non-compliant, with the RTO so far and \"stopped after\"")
    func timeLimit() async {
        let clock = ManualClock(), log = FakeLog()
        let deps = DrillDependencies.fake(store: store(age: 60), restorer: FakeRestorer(clock: clock, behaviour: .hang, log: log),
                                          provisioner: FakeProvisioner(clock: clock, seconds: 2, log: log),
                                          connector: FakeConnector(clock: clock, value: "1", seconds: 0), now: now)
        var d = drill()
        d.restore.timeout = DrillDuration(seconds: 1)
        let r = await DrillRunner(deps: deps, clock: clock).run(d, tier: tier)
        #expect(r.status == .nonCompliant)
        #expect(ExitCode(r) == .nonCompliant)
        #expect(r.findings.contains { $0.hasPrefix("Stopped after 1s (restore.timeout)") }, "\(r.findings)")
        #expect(r.measured.rtoSeconds == 2, "the RTO so far, on the drill's clock: the 2 s provision")
        #expect(log.events == ["provision", "restore", "teardown"])
        #expect(r.scratch.removed)
        #expect(r.phases.contains { $0.name == "restore" && !$0.ok })
    }

    @Test func theDefaultTimeLimitIsTwiceTheRTOTarget() {
        #expect(RestoreConfig().timeLimit(for: tier) == DrillDuration(seconds: 7200))
        #expect(RestoreConfig(timeout: DrillDuration(seconds: 5)).timeLimit(for: tier) == DrillDuration(seconds: 5))
    }
}

enum BackupFormatTestsSupport {
    static func header(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) -> [UInt8] {
        BackupFormatTests.header(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
    }
}
