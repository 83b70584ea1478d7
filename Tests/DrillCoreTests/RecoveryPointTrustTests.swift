import DrillCore
import DrillTesting
import Foundation
import Testing

/// A physical drill replays the WAL production archived up to the moment the method listed the archive, and
/// production keeps writing while the drill runs: a replayed commit between the drill's start and that moment is real
/// (nothing was lost at the drill's start), one after it can only be a wrong clock.
@Suite("The recovery point against the drill's start and the moment the archive was read")
struct RecoveryPointTrustTests {
    let now = RFC3339.parse("2026-11-28T12:00:00Z")!
    let tier = TierConfig(name: "critical", rto: DrillDuration(seconds: 3600), rpo: DrillDuration(seconds: 300))

    /// Restores nothing real: a scratch it adopts, and the recovery point and archive-read time it is given.
    struct FakePhysical: DrillMethod {
        var recoveryPoint: Date
        var sourceReadAt: Date?
        var target: Date?
        let log: FakeLog
        func locate(_ drill: DrillConfig, _ context: MethodContext) async throws -> RestorePoint {
            RestorePoint(uri: "/srv/base/b1", name: "b1", format: "basebackup")
        }
        func restore(_ drill: DrillConfig, _ run: MethodRun) async throws -> Restored {
            run.record(point: try await locate(drill, run.context))
            return Restored(database: run.adopt(FakeScratch(log: log)), recoveryPoint: recoveryPoint, recoveryPointSource: "wal_replay",
                            rpoReference: target, sourceReadAt: sourceReadAt)
        }
    }

    func run(recoveryPoint offset: Double, readAt: Double?, target: Double? = nil) async -> DrillReport {
        let clock = ManualClock(), log = FakeLog()
        var deps = DrillDependencies.fake(store: FakeStore(object: nil, head: []),
                                          restorer: FakeRestorer(clock: clock, behaviour: .succeed(seconds: 1), log: log),
                                          provisioner: FakeProvisioner(clock: clock, seconds: 1, log: log),
                                          connector: FakeConnector(clock: clock, value: "1", seconds: 0), now: now)
        deps.methods.register(.basebackup, FakePhysical(recoveryPoint: now.addingTimeInterval(offset),
                                                        sourceReadAt: readAt.map { now.addingTimeInterval($0) },
                                                        target: target.map { now.addingTimeInterval($0) }, log: log))
        let drill = DrillConfig(name: "ledger", tier: "critical",
                                settings: BaseBackupSettings(backup: BackupConfig(location: "/srv/base", format: .basebackup),
                                                             wal: WALConfig(location: "/srv/wal")),
                                checks: [CheckConfig(name: "c", sql: "SELECT 1", expect: Expectation(min: 1))])
        return await DrillRunner(deps: deps, clock: clock).run(drill, tier: tier)
    }

    @Test("a commit archived while the drill ran, before the archive was read, is real: RPO 0, compliant")
    func commitWrittenDuringTheDrill() async {
        let r = await run(recoveryPoint: 4, readAt: 9)
        #expect(r.status == .compliant, "\(r.findings)")
        #expect(r.measured.rpoSeconds == 0)
        #expect(!r.findings.contains { $0.contains("future") })
    }

    @Test("a commit after the moment the archive was read is a clock problem: no RPO, non-compliant, the moment named")
    func commitAfterTheRead() async {
        let r = await run(recoveryPoint: 30, readAt: 9)
        #expect(r.status == .nonCompliant)
        #expect(r.measured.rpoSeconds == nil)
        #expect(r.findings.contains { $0.contains("21.00s in the future of the moment drill read the archive") }, "\(r.findings)")
    }

    @Test("without a read time the drill's start is the bound, as for a dump")
    func noReadTime() async {
        let r = await run(recoveryPoint: 4, readAt: nil)
        #expect(r.status == .nonCompliant)
        #expect(r.findings.contains { $0.contains("in the future of the drill's start") }, "\(r.findings)")
    }

    @Test("an older commit is measured against the drill's start, or against a point-in-time target")
    func olderCommit() async {
        let latest = await run(recoveryPoint: -120, readAt: 9)
        #expect(latest.measured.rpoSeconds == 120)
        #expect(latest.status == .compliant, "\(latest.findings)")
        let pitr = await run(recoveryPoint: -3600, readAt: 9, target: -3590)
        #expect(pitr.measured.rpoSeconds == 10)
    }
}
