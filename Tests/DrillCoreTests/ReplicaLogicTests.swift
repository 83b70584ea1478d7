@testable import DrillCore
import DrillTesting
import Foundation
import Synchronization
import Testing

/// A session that answers each statement from a script (one answer per call, the last one repeating).
final class ScriptedSession: ReplicaSession {
    private let answers: Mutex<[String: [[[String?]]]]>
    let asked = Mutex<[String]>([])
    init(_ answers: [String: [[[String?]]]]) { self.answers = Mutex(answers) }
    func rows(_ sql: String) async throws -> [[String?]] {
        asked.withLock { $0.append(sql) }
        return try answers.withLock { a in
            guard var list = a[sql], let first = list.first else { throw ReplicaLinkError(.server, "unexpected: \(sql)") }
            if list.count > 1 { list.removeFirst() }
            a[sql] = list
            return first
        }
    }
    func close() async {}
}

@Suite("Replica drills: positions, SQL, probe and verdict")
struct ReplicaLogicTests {
    @Test func walPositions() throws {
        let p = try #require(WALPosition("16/B374D848"))
        #expect(p.value == 0x16_B374_D848)
        #expect(p.description == "16/B374D848")
        #expect(WALPosition("0/0")?.value == 0)
        for bad in [nil, "", "16", "x/1", "1/", "123456789/0"] as [String?] { #expect(WALPosition(bad) == nil) }
        #expect(WALPosition(0x1000).bytes(to: WALPosition(0x1800)) == 0x800)
        #expect(WALPosition(0x1800).bytes(to: WALPosition(0x1000)) == 0)
        let json = try JSONEncoder().encode([p])
        #expect(String(decoding: json, as: UTF8.self) == #"["16\/B374D848"]"#)
    }

    @Test func nothingSentToProductionChangesIt() {
        for sql in ReplicaSQL.all() {
            let lower = sql.lowercased()
            for forbidden in ["pg_promote", "pg_wal_replay_pause", "pg_wal_replay_resume", "pg_create_physical_replication_slot",
                              "pg_create_logical_replication_slot", "pg_drop_replication_slot", "pg_replication_slot_advance",
                              "pg_switch_wal", "insert ", "delete ", "truncate", "create ", "drop ", "alter ", "grant "] {
                #expect(!lower.contains(forbidden), "\(forbidden) in \(sql)")
            }
            #expect(!lower.hasPrefix("update") || sql == ReplicaSQL.heartbeatWrite("drill_heartbeat"))
        }
        #expect(ReplicaSQL.heartbeatWrite("hb").contains("clock_timestamp()"))
        #expect(!ReplicaSQL.heartbeatWrite("hb").contains("now()"))
        #expect(ReplicaSQL.literal("it's") == "'it''s'")
        #expect(ReplicaSQL.isQualifiedName("monitoring.drill_heartbeat") && !ReplicaSQL.isQualifiedName("a.b.c"))
        #expect(!ReplicaSQL.isQualifiedName("hb; DROP TABLE x") && !ReplicaSQL.isQualifiedName("Heartbeat"))
    }

    @Test func aRoleOutsidePgMonitorSeesHiddenSenders() {
        let rows = SenderRow.parse([["stby1", nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, "4242"]])
        #expect(rows.first?.hidden == true)
        let visible = SenderRow.parse([["stby1", "streaming", "async", "0", "0/5", "0/5", "0/5", "0/4", "0.001", "0.002", nil, "4242"]])
        #expect(visible.first?.hidden == false && visible.first?.replay == WALPosition(4) && visible.first?.replayLag == nil)
    }

    @Test func heartbeatArithmetic() {
        let t = Date(timeIntervalSince1970: 1000)
        let written = HeartbeatStamp(seq: 8, at: t)
        // This run's heartbeat is visible: at most as old as the primary's clock says, to a poll interval.
        let seen = StandbyProbe<ManualClock>.reading(seen: HeartbeatStamp(seq: 8, at: t), written: written,
                                                    primaryNow: t.addingTimeInterval(0.05), pollInterval: .milliseconds(10))
        #expect(seen == .init(seenSeq: 8, seenAt: t, current: true, ageSeconds: 0.05, resolutionSeconds: 0.01))
        // Only an older one: the lag lies between now - written and now - seen.
        let stale = StandbyProbe<ManualClock>.reading(seen: HeartbeatStamp(seq: 7, at: t.addingTimeInterval(-60)), written: written,
                                                     primaryNow: t.addingTimeInterval(3), pollInterval: .milliseconds(10))
        #expect(stale == .init(seenSeq: 7, seenAt: t.addingTimeInterval(-60), current: false, ageSeconds: 63, resolutionSeconds: 60))
        let none = StandbyProbe<ManualClock>.reading(seen: nil, written: written, primaryNow: t, pollInterval: .milliseconds(10))
        #expect(none.ageSeconds == nil && !none.current)
    }

    @Test func theProbeMeasuresReceiveReplayAndTheBacklog() async throws {
        let clock = ManualClock()
        // Polls at 0, 10, 20, 30 ms: received at the 2nd, the first poll's backlog replayed at the 3rd, target at the 4th.
        let session = ScriptedSession([ReplicaSQL.position: [
            [["0/900", "0/500"]], [["0/1000", "0/800"]], [["0/1100", "0/900"]], [["0/1100", "0/1000"]],
        ]])
        let probe = StandbyProbe(clock: clock, pollInterval: .milliseconds(10))
        let r = try await probe.run(session, target: WALPosition(0x1000), start: clock.now, wait: .seconds(5))
        #expect(r.receiveLatency == .milliseconds(10))
        #expect(r.backlogReplay == .milliseconds(20))
        #expect(r.replayLatency == .milliseconds(30))
        #expect(r.backlogBytes == 0x400)
        var s = ReplicaEvidence.Standby(name: "a", url: "u")
        s.apply(r, target: WALPosition(0x1000))
        #expect(s.byteGap == 0x700 && s.replayBacklogBytes == 0x400 && s.replayBacklogBytesEnd == 0x100)
        #expect(s.receiveLatencySeconds == 0.01 && s.backlogReplaySeconds == 0.02)
        #expect(s.replayRateBytesPerSecond == 51_200)
    }

    @Test func aStuckStandbyStopsTheProbeAtTheWait() async throws {
        let clock = ManualClock()
        let session = ScriptedSession([ReplicaSQL.position: [[["0/900", "0/500"]]]])
        let r = try await StandbyProbe(clock: clock, pollInterval: .milliseconds(100))
            .run(session, target: WALPosition(0x1000), start: clock.now, wait: .seconds(2))
        #expect(r.receiveLatency == nil && r.replayLatency == nil && r.backlogReplay == nil)
        #expect(session.asked.withLock { $0.count } == 21)
    }

    static func evidence() -> ReplicaEvidence {
        var e = ReplicaEvidence(primary: .init(url: "postgresql://m@p/postgres"), probe: .init(waitSeconds: 5, pollIntervalSeconds: 0.01))
        e.primary.systemIdentifier = "7"
        e.primary.timeline = 1
        e.primary.flushLsn = WALPosition(0x1000)
        var s = ReplicaEvidence.Standby(name: "stby1", url: "postgresql://m@s/postgres")
        s.present = true
        s.state = "streaming"
        s.inRecovery = true
        s.systemIdentifier = "7"
        s.timeline = 1
        s.replayPauseState = "not paused"
        s.recoveryMinApplyDelayMs = 0
        s.receiveLatencySeconds = 0.004
        s.replayLatencySeconds = 0.005
        s.byteGap = 100
        s.replayBacklogBytes = 0
        s.backlogReplaySeconds = 0
        e.standbys = [s]
        return e
    }

    @Test func aHealthyStandbyHasNoProblems() {
        var e = Self.evidence()
        let v = e.assess(rpoTarget: 300)
        #expect(v.violations.isEmpty && v.findings.isEmpty)
        #expect(v.rpo == .measured(seconds: 0.004))
        #expect(e.standbys[0].rpoSource == "receive_probe" && e.standbys[0].problems.isEmpty)
    }

    @Test func everyTopologyFaultIsAViolation() {
        var e = Self.evidence()
        e.standbys[0].present = false
        e.standbys[0].state = nil
        e.standbys[0].systemIdentifier = "8"
        e.standbys[0].timeline = 2
        e.standbys[0].replayPauseState = "paused"
        e.standbys[0].replayBacklogBytesEnd = 4096
        e.standbys[0].recoveryMinApplyDelayMs = 300_000
        let v = e.assess(rpoTarget: 300)
        for text in ["Standby stby1 is not streaming: the primary's pg_stat_replication has no row",
                     "Standby stby1 belongs to another cluster: system_identifier 8, the primary's is 7",
                     "Standby stby1 is on timeline 2, the primary on timeline 1",
                     "Standby stby1 has its WAL replay paused (pg_get_wal_replay_pause_state: paused): 4096 bytes received are not replayed"] {
            #expect(v.violations.contains { $0.hasPrefix(text) }, "missing \(text) in \(v.violations)")
        }
        #expect(v.findings.contains { $0.contains("recovery_min_apply_delay") })
        #expect(e.standbys[0].problems.count == 4)
    }

    @Test func aProbeThatRunsOutOfTimeLeavesTheRPOToTheHeartbeatOrUnmeasured() {
        var e = Self.evidence()
        e.standbys[0].receiveLatencySeconds = nil
        var unmeasured = e
        let v = unmeasured.assess(rpoTarget: 300)
        #expect(v.violations.contains { $0.contains("did not receive the primary's WAL position 0/1000 within 5.00s") && $0.contains("not measured") })
        guard case .notMeasured(let why) = v.rpo else { Issue.record("the RPO should not be measured"); return }
        #expect(why.contains("stby1"))
        e.standbys[0].heartbeat = .init(seenSeq: 3, seenAt: nil, current: false, ageSeconds: 400, resolutionSeconds: 60)
        let hv = e.assess(rpoTarget: 300)
        #expect(hv.rpo == .measured(seconds: 400))
        #expect(e.standbys[0].rpoSource == "heartbeat")
        #expect(hv.violations.contains { $0.contains("its newest heartbeat is 6m 40s old (the lag lies within 5m 40s … 6m 40s)") }, "\(hv.violations)")
    }

    @Test func aHeartbeatOverTheRPOIsAViolation() {
        var e = Self.evidence()
        e.standbys[0].heartbeat = .init(seenSeq: 9, seenAt: nil, current: true, ageSeconds: 301, resolutionSeconds: 0.01)
        let v = e.assess(rpoTarget: 300)
        #expect(v.violations.contains { $0.contains("shows a heartbeat 5m 1s old") })
        #expect(v.rpo == .measured(seconds: 0.004))
    }

    @Test func slotsAndSubscriptions() {
        var e = Self.evidence()
        var lost = ReplicaEvidence.Slot(name: "old_cdc")
        lost.present = true
        lost.active = false
        lost.walStatus = "lost"
        lost.retainedBytes = 10
        lost.retainedBytesEnd = 90
        var idle = ReplicaEvidence.Slot(name: "idle")
        idle.present = true
        idle.active = false
        idle.walStatus = "reserved"
        idle.retainedBytes = 500
        idle.retainedBytesEnd = 500
        var sub = ReplicaEvidence.Subscription(name: "analytics", url: "u")
        sub.present = true
        sub.enabled = true
        sub.slotName = "analytics"
        sub.heartbeatPublished = false
        var subSlot = ReplicaEvidence.Slot(name: "analytics")
        subSlot.present = true
        subSlot.active = true
        e.slots = [lost, idle, .init(name: "missing"), subSlot]
        e.subscriptions = [sub]
        let v = e.assess(rpoTarget: 300)
        #expect(v.violations.contains { $0.hasPrefix("Slot old_cdc has wal_status lost") })
        #expect(v.violations.contains { $0.hasPrefix("Slot missing does not exist on the primary") })
        #expect(!v.violations.contains { $0.contains("idle") })
        #expect(v.findings.contains { $0.contains("Slot old_cdc is inactive: it retains 90 bytes of WAL on the primary, growing by 80 bytes") })
        #expect(v.findings.contains { $0.contains("Slot idle is inactive: it retains 500 bytes") && $0.contains("did not grow") })
        #expect(v.findings.contains { $0.contains("Subscription analytics has no apply worker running") })
        #expect(e.subscriptions[0].timeLagSource.hasPrefix("unknown: the heartbeat table is not in its publications"))
        #expect(e.slots[3].timeLagSeconds == nil && e.slots[3].timeLagSource.hasPrefix("unknown"))
    }

    @Test func theRTOIsDetectionPlusPromotionPlusReplay() {
        var e = Self.evidence()
        #expect(e.assessRTO() == .notMeasured(reason: "no clone is configured, so no promotion was timed"))
        var c = ReplicaEvidence.Clone(from: "stby1", detectionSeconds: 30)
        c.promotionSeconds = 0.25
        e.clone = c
        #expect(e.assessRTO() == .measured(seconds: 30.25))
        #expect(e.clone?.replaySeconds == 0 && e.clone?.rtoSeconds == 30.25)
        e.standbys[0].replayBacklogBytes = 1_000_000
        e.standbys[0].backlogReplaySeconds = 2
        e.standbys[0].replayRateBytesPerSecond = 500_000
        #expect(e.assessRTO() == .measured(seconds: 32.25))
        #expect(e.clone?.replayRateBytesPerSecond == 500_000)
        e.standbys[0].backlogReplaySeconds = nil
        guard case .notMeasured(let why) = e.assessRTO() else { Issue.record("a backlog that was not replayed leaves the RTO unknown"); return }
        #expect(why.contains("did not replay its 1000000-byte backlog"))
    }
}
