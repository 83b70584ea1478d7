import DrillCore
import DrillTesting
import Foundation
import Synchronization
import Testing

/// The seam a replica drill needs from the runner: checks on borrowed servers (never torn down), and an RPO / RTO the
/// method measured itself; and what metrics, JUnit and the golden report make of the evidence.
@Suite("Replica drills: the runner, metrics, JUnit, report")
struct ReplicaSeamTests {
    let now = RFC3339.parse("2026-11-28T12:00:00Z")!
    let tier = TierConfig(name: "critical", rto: DrillDuration(seconds: 3600), rpo: DrillDuration(seconds: 300))

    /// Records the connections checks were run on.
    final class RecordingConnector: DatabaseConnector, QueryExecutor {
        let hosts = Mutex<[String]>([])
        func connect(_ parameters: ConnectionParameters) async throws -> any QueryExecutor {
            hosts.withLock { $0.append(parameters.keywords["host"] ?? "?") }
            return self
        }
        func query(_ sql: String, timeout: DrillDuration, countRowsUpTo: Int) async throws -> QueryResult { QueryResult(rows: [["5"]]) }
        func close() async {}
    }

    struct FakeReplica: DrillMethod {
        var rpo: MethodMeasure
        var rto: MethodMeasure
        var violations: [String] = []
        var hasRestorePoints: Bool { false }
        func locate(_ drill: DrillConfig, _ context: MethodContext) async throws -> RestorePoint {
            RestorePoint(uri: "postgresql://m@p/postgres", name: "a, b", format: "replica")
        }
        func restore(_ drill: DrillConfig, _ run: MethodRun) async throws -> Restored {
            run.record(point: try await locate(drill, run.context))
            return Restored(checkTargets: [CheckTarget(label: "a", connection: ConnectionParameters(["host": "a"]), serverVersion: "15.18"),
                                           CheckTarget(label: "b", connection: ConnectionParameters(["host": "b"]))],
                            recoveryPointSource: "replica_probe", rpo: rpo, rto: rto, violations: violations)
        }
    }

    func run(_ method: FakeReplica, tier: TierConfig? = nil) async -> (DrillReport, [String]) {
        let clock = ManualClock(), log = FakeLog(), connector = RecordingConnector()
        var deps = DrillDependencies.fake(store: FakeStore(object: nil, head: []), restorer: FakeRestorer(clock: clock, behaviour: .succeed(seconds: 1), log: log),
                                          provisioner: FakeProvisioner(clock: clock, seconds: 1, log: log),
                                          connector: FakeConnector(clock: clock, value: "1", seconds: 0), now: now)
        deps.connector = connector
        deps.methods.register(.replica, method)
        let settings = ReplicaSettings(primary: "postgresql://m@p/postgres", standbys: [.init(name: "a", url: "postgresql://m@a/postgres"),
                                                                                        .init(name: "b", url: "postgresql://m@b/postgres")])
        let drill = DrillConfig(name: "orders", tier: "critical", settings: settings,
                                checks: [CheckConfig(name: "orders", sql: "SELECT 1", expect: Expectation(min: 1)),
                                         CheckConfig(name: "fresh", sql: "SELECT 1", expect: Expectation(min: 1))])
        let report = await DrillRunner(deps: deps, clock: clock).run(drill, tier: tier ?? self.tier)
        return (report, connector.hosts.withLock { $0 })
    }

    @Test func checksRunOnEveryTargetAndNothingIsTornDown() async {
        let (r, hosts) = await run(FakeReplica(rpo: .measured(seconds: 0.012), rto: .measured(seconds: 30.4)))
        #expect(r.status == .compliant, "\(r.findings)")
        #expect(hosts == ["a", "b"])
        #expect(r.checks.map(\.name) == ["a: orders", "a: fresh", "b: orders", "b: fresh"])
        #expect(r.measured.rpoSeconds == 0.012)
        #expect(r.measured.rtoSeconds == 30.4)
        #expect(r.measured.recoveryPoint == nil && r.measured.recoveryPointSource == "replica_probe")
        #expect(!r.phases.contains { $0.name == "teardown" })
        #expect(r.scratch.teardownSeconds == nil)
        #expect(r.environment.serverVersion == "15.18")
    }

    @Test func aTiersRetentionPromiseIsNotAboutAReplicaDrill() async {
        var t = tier
        t.retention = DrillDuration(seconds: 30 * 86_400)
        t.backupInterval = DrillDuration(seconds: 86_400)
        let (r, _) = await run(FakeReplica(rpo: .measured(seconds: 0.01), rto: .measured(seconds: 31)), tier: t)
        #expect(r.status == .compliant, "\(r.findings)")
        #expect(r.coverage == nil)
        #expect(!ReplicaMethod(link: NoLink(), cloner: nil).hasRestorePoints)
    }

    struct NoLink: ReplicaLink {
        func open(_ url: String, kind: ReplicaSessionKind, limits: ReplicaLimits) async throws -> any ReplicaSession {
            throw ReplicaLinkError(.unreachable, "no network in unit tests")
        }
        func checkConnection(_ url: String, database: String?, limits: ReplicaLimits) throws -> ConnectionParameters {
            ConnectionParameters([:])
        }
    }

    @Test func anUnmeasuredRTOIsUnverifiedAndDoesNotPass() async {
        let (r, _) = await run(FakeReplica(rpo: .measured(seconds: 0.01), rto: .notMeasured(reason: "no clone is configured")))
        #expect(r.status == .nonCompliant)
        #expect(r.measured.rtoSeconds == nil)
        #expect(r.findings == ["The RTO was not measured (no clone is configured): the critical RTO target of 1h is unverified."])
    }

    @Test func methodFiguresOverTargetAndViolationsAreMisses() async {
        let (r, _) = await run(FakeReplica(rpo: .measured(seconds: 400), rto: .measured(seconds: 4000), violations: ["Standby a is not streaming."]))
        #expect(r.status == .nonCompliant)
        #expect(r.findings == ["Standby a is not streaming.", "Measured RTO 1h 6m 40s exceeds the critical target of 1h.",
                               "Measured RPO 6m 40s exceeds the critical target of 5m."])
        let (u, _) = await run(FakeReplica(rpo: .notMeasured(reason: "a did not receive"), rto: .measured(seconds: 1)))
        #expect(u.status == .nonCompliant)
        #expect(u.findings == ["The RPO was not measured (a did not receive), so the critical RPO target of 5m cannot be shown to hold."])
    }

    static func report() -> DrillReport {
        var r = ReportTests.sample()
        r.method = .replica
        r.status = .nonCompliant
        r.backup = .init(uri: "postgresql://drill_monitor@db-primary:5432/postgres", name: "stby1, stby2", format: "replica")
        r.measured = .init(rtoSeconds: 30.412, rpoSeconds: 0.004, recoveryPointSource: "replica_probe")
        r.restore = .init(jobs: 2, profile: .durable, tool: "postgres (streaming replication)")
        r.phases = ["connect", "topology", "probe", "slots", "provision", "clone", "clone_start", "promote", "checks"].enumerated().map {
            .init(name: $0.element, startOffsetSeconds: Double($0.offset), seconds: 1, ok: true)
        }
        r.checks = [.init(name: "stby1: orders visible", sql: "SELECT count(*) FROM orders", expected: "min 1", observed: "318", rows: 1,
                          passed: true, seconds: 0.004)]
        r.findings = ["Standby stby2 is not streaming: the primary's pg_stat_replication has no row for application_name \"stby2\" (its walreceiver: not running)."]
        var e = ReplicaLogicTests.evidence()
        e.primary.url = "postgresql://drill_monitor@db-primary:5432/postgres"
        e.heartbeat = .init(table: "drill_heartbeat", seq: 42, writtenAt: r.startedAt)
        e.standbys[0].heartbeat = .init(seenSeq: 42, seenAt: r.startedAt, current: true, ageSeconds: 0.006, resolutionSeconds: 0.01)
        e.standbys[0].rpoSeconds = 0.004
        e.standbys[0].rpoSource = "receive_probe"
        var down = ReplicaEvidence.Standby(name: "stby2", url: "postgresql://drill_monitor@db-standby2:5432/postgres")
        down.problems = ["is not streaming"]
        down.byteGap = 8192
        e.standbys.append(down)
        var slot = ReplicaEvidence.Slot(name: "debezium")
        slot.present = true
        slot.active = false
        slot.retainedBytes = 1000
        slot.retainedBytesEnd = 3000
        slot.problems = ["is inactive, retaining 3000 bytes of WAL, growing by 2000 bytes while drill watched it"]
        e.slots = [slot]
        var clone = ReplicaEvidence.Clone(from: "stby1", detectionSeconds: 30)
        clone.promotionSeconds = 0.412
        clone.replaySeconds = 0
        clone.rtoSeconds = 30.412
        clone.inherited = ["primary_slot_name": "stby1_slot", "synchronous_standby_names": "*"]
        clone.effective = ["primary_slot_name": "", "synchronous_standby_names": ""]
        e.clone = clone
        r.replica = e
        return r
    }

    @Test func goldenReplicaReport() throws {
        let report = Self.report()
        let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/report-replica.json")
        let data = try report.jsonData()
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" { try data.write(to: golden) }
        let stored = try Data(contentsOf: golden)
        #expect(String(decoding: data, as: UTF8.self) == String(decoding: stored, as: UTF8.self))
        let decoded = try DrillReport.decoder().decode(DrillReport.self, from: stored)
        #expect(decoded.replica == report.replica)
        #expect(decoded.replica?.primary == report.replica?.primary)
        #expect(decoded.replica?.standbys == report.replica?.standbys)
        #expect(decoded.replica?.clone == report.replica?.clone)
        #expect(decoded.replica?.heartbeat == report.replica?.heartbeat)
        #expect(decoded == report)
        let md = MarkdownReport.render(report)
        #expect(md.contains("| Standby stby1 | streaming, received in 0.00s (100 bytes behind)"))
        #expect(md.contains("| Clone of stby1 | detection 30.00s + promotion 0.41s + replay 0.00s = RTO 30.41s |"))
    }

    @Test func metricsCarryEachStandbysLagAndNeverAFalseZero() {
        let text = PrometheusMetrics.render(reports: [Self.report()])
        #expect(text.contains(#"drill_replication_lag_seconds{drill="shop",tier="critical",standby="stby1"} 0.004"#))
        #expect(text.contains(#"drill_replication_lag_seconds{drill="shop",tier="critical",standby="stby2"} +Inf"#))
        #expect(text.contains(#"drill_replication_lag_bytes{drill="shop",tier="critical",standby="stby1"} 100"#))
        #expect(text.contains(#"drill_replication_lag_bytes{drill="shop",tier="critical",standby="stby2"} 8192"#))
        #expect(!PrometheusMetrics.render(reports: [ReportTests.sample()]).contains("drill_replication_lag"))
    }

    @Test func junitHasACasePerStandbyAndSlot() {
        let xml = JUnitReport.render([Self.report()])
        #expect(xml.contains(#"name="standby: stby1" time="0.004"/>"#))
        #expect(xml.contains(#"name="standby: stby2""#) && xml.contains(#"<failure type="replica" message="is not streaming"/>"#))
        #expect(xml.contains(#"name="slot: debezium""#))
        #expect(xml.contains(#"tests="6" failures="2""#), "\(xml)")
    }
}
