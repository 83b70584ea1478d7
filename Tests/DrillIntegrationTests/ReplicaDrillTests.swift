import DrillCore
import DrillLive
import DrillTesting
import Foundation
import Testing

/// Replica drills against a real topology on loopback (a primary, a streaming standby from `pg_basebackup -R -S`, a
/// logical subscriber, an unconsumed pgoutput slot), shared by every test and changed by one test at a time.
@Suite("Replica drills", .serialized, .timeLimit(.minutes(5)))
struct ReplicaDrillTests {
    typealias T = ReplicaTopology

    /// A replica drill file for the shared topology.
    static func drill(user: String = T.monitor.user, standbyURL: String? = nil, heartbeat: Bool = true, slots: [String] = [],
                      subscription: Bool = false, clone: Bool = false, wait: String = "5s") async throws -> String {
        let t = T.shared
        let primary = try await t.url(.primary, user: user)
        let standby: String
        if let standbyURL { standby = standbyURL } else { standby = try await t.url(.standby, user: user) }
        var parts = [#""primary": "\#(primary)""#, #""standbys": [ { "name": "\#(T.standbyName)", "url": "\#(standby)" } ]"#,
                     #""wait": "\#(wait)""#]
        if heartbeat { parts.append(#""heartbeat": { "table": "\#(T.heartbeat)" }"#) }
        if !slots.isEmpty { parts.append(#""slots": [\#(slots.map { "\"\($0)\"" }.joined(separator: ", "))]"#) }
        if subscription {
            parts.append(#""subscriptions": [ { "name": "\#(T.subscription)", "url": "\#(try await t.url(.subscriber))" } ]"#)
        }
        if clone { parts.append(#""clone": { "from": "\#(T.standbyName)", "detection": "30s" }"#) }
        return """
            { "version": 1, "tier": "critical",
              "replica": { \(parts.joined(separator: ",\n    ")) },
              "checks": [ { "name": "orders visible", "sql": "SELECT count(*) FROM orders", "expect": { "min": 1 } } ] }
            """
    }

    func standby(_ r: DrillReport) throws -> ReplicaEvidence.Standby {
        try #require(r.replica?.standbys.first)
    }

    @Test("a healthy pair under writes: compliant, RPO well under a second, the clone measures the RTO and leaves production alone")
    func healthyPairWithClone() async throws {
        let t = T.shared
        _ = try await t.start()
        try await t.waitCaughtUp()
        let slotsBefore = try await t.slots()
        let archiveBefore = try await t.archive()
        let folder = TempFolder("rhealthy")
        let writer = try await t.startWriting()
        let r: DrillReport
        do {
            r = try await runDrill(try await Self.drill(slots: [T.standbySlot], subscription: true, clone: true), name: "orders",
                                   in: folder)
        } catch {
            await writer.stop()
            throw error
        }
        await writer.stop()
        print("healthy: rpo \(r.measured.rpoSeconds.map { "\($0)" } ?? "-") s, rto \(r.measured.rtoSeconds.map { "\($0)" } ?? "-") s, findings \(r.findings), phases \(r.phases.map { "\($0.name) \($0.seconds)" })")
        if ProcessInfo.processInfo.environment["REPLICA_REPORT"] != nil { print(String(decoding: try r.jsonData(), as: UTF8.self)) }
        #expect(r.status == .compliant, "\(r.findings)")
        #expect(r.method == .replica && r.backup.format == "replica" && r.backup.sizeBytes == nil)
        #expect(r.measured.recoveryPointSource == "replica_probe")
        let s = try standby(r)
        #expect(s.present && s.state == "streaming" && s.inRecovery == true && s.problems.isEmpty, "\(s.problems)")
        let rpo = try #require(r.measured.rpoSeconds)
        // Well under a second on an idle machine; 6.7 s was seen in CI with the suite's other servers busy. The bound
        // only catches a probe measured from the wrong point (minutes old); `compliant` already holds it to the tier.
        #expect(rpo < 60, "the measured RPO of a healthy pair is seconds at most (\(rpo) s here)")
        #expect(abs((s.receiveLatencySeconds ?? 99) - rpo) < 0.001 && s.rpoSource == "receive_probe")
        #expect(s.heartbeat?.current == true)
        #expect(r.replica?.heartbeat?.table == T.heartbeat)
        // Checks ran on the standby, named after it.
        #expect(r.checks.map(\.name) == ["\(T.standbyName): orders visible"])
        #expect(r.checks.allSatisfy { $0.passed })
        // The subscription gets its time lag from the heartbeat, which its publication carries.
        let sub = try #require(r.replica?.subscriptions.first)
        #expect(sub.present && sub.heartbeatPublished == true && sub.heartbeat?.current == true, "\(sub)")
        #expect(sub.timeLagSeconds != nil)
        // The clone: RTO = detection + promotion + replay, measured; production's identity did not follow it.
        let clone = try #require(r.replica?.clone)
        let promotion = try #require(clone.promotionSeconds)
        #expect(promotion > 0 && promotion < 60)
        #expect(clone.rtoSeconds == r.measured.rtoSeconds)
        #expect(abs((clone.rtoSeconds ?? 0) - (30 + promotion + (clone.replaySeconds ?? 99))) < 0.01)
        #expect(clone.inherited["primary_slot_name"] == T.standbySlot)
        #expect(clone.inherited["synchronous_standby_names"] == "*")
        #expect(clone.effective["primary_slot_name"] == "")
        #expect(clone.effective["synchronous_standby_names"] == "")
        #expect(clone.effective["archive_mode"] == "off")
        #expect(clone.effective["primary_conninfo"] == "")
        #expect(clone.effective["cluster_name"]?.hasPrefix("drill-clone-") == true)
        #expect(clone.timeline == 2)
        // The clone ran the primary's major, chosen from its server_version.
        #expect(r.postgres?.backupVersionSource == "the primary's server_version" && r.postgres?.rule == .sameMajor, "\(String(describing: r.postgres))")
        #expect(r.postgres.map { $0.backupVersion?.major == $0.version.major } == true, "\(String(describing: r.postgres))")
        #expect(r.postgres?.version.major == 15)
        // The primary's slots and archive are as before: the standby still holds its slot; nothing on timeline 2.
        let slotsAfter = try await t.slots()
        #expect(slotsAfter == slotsBefore)
        let archiveAfter = try await t.archive()
        for (name, digest) in archiveBefore { #expect(archiveAfter[name] == digest, "\(name) changed or vanished") }
        #expect(!archiveAfter.keys.contains { $0.hasPrefix("00000002") }, "the clone archived into production")
        try await t.waitCaughtUp()
        expectNothingLeft(folder)
    }

    /// Runs `body` while the primary takes writes.
    func underWrites<R>(_ body: () async throws -> R) async throws -> R {
        let writer = try await T.shared.startWriting()
        do {
            let r = try await body()
            await writer.stop()
            return r
        } catch {
            await writer.stop()
            throw error
        }
    }

    @Test("an idle primary: compliant, no false alarm, while now() - pg_last_xact_replay_timestamp() on the standby is large")
    func idlePrimary() async throws {
        let t = T.shared
        _ = try await t.start()
        try await t.waitCaughtUp()
        // Nothing commits on the primary until the naive figure has grown.
        let deadline = Date().addingTimeInterval(20)
        while (try await t.naiveReplayAge() ?? 0) < 3, Date() < deadline { try await Task.sleep(for: .milliseconds(200)) }
        let naive = try #require(try await t.naiveReplayAge())
        #expect(naive >= 3)
        let folder = TempFolder("ridle")
        let r = try await runDrill(try await Self.drill(heartbeat: false, clone: true), name: "idle", in: folder)
        print("idle: naive \(naive) s, rpo \(r.measured.rpoSeconds.map { "\($0)" } ?? "-") s, findings \(r.findings)")
        #expect(r.status == .compliant, "\(r.findings)")
        #expect(r.findings.isEmpty)
        let s = try standby(r)
        #expect((s.naive.replayTimestampAgeSeconds ?? 0) >= 3, "the naive figure the report keeps for comparison is large")
        #expect(s.byteGap == 0 && s.replayBacklogBytes == 0)
        #expect((r.measured.rpoSeconds ?? 99) < 5)
        #expect(r.measured.rtoSeconds != nil)
        expectNothingLeft(folder)
    }

    @Test("a paused standby under writes: a finding names the pause, the replay backlog shows")
    func pausedStandby() async throws {
        let t = T.shared
        _ = try await t.start()
        try await t.waitCaughtUp()
        let folder = TempFolder("rpause")
        try await t.pauseReplay()
        let r: DrillReport
        do {
            r = try await underWrites {
                try await Task.sleep(for: .milliseconds(500))
                return try await runDrill(try await Self.drill(wait: "2s"), name: "paused", in: folder)
            }
        } catch {
            try await t.resumeReplay()
            throw error
        }
        try await t.resumeReplay()
        print("paused: findings \(r.findings)")
        #expect(r.status == .nonCompliant)
        let s = try standby(r)
        #expect(s.replayPauseState == "paused" || s.replayPauseState == "pause requested")
        #expect(r.findings.contains { $0.contains("Standby stby1 has its WAL replay paused") })
        #expect((s.replayBacklogBytesEnd ?? 0) > 0, "received but not replayed: \(s)")
        #expect(s.receiveLatencySeconds != nil, "WAL still arrives: only replay stopped")
        #expect(s.replayLatencySeconds == nil)
        #expect(s.heartbeat?.current == false)
        // Without clone the RTO is not measured, and the target is not passed.
        #expect(r.measured.rtoSeconds == nil)
        #expect(r.findings.contains { $0.contains("The RTO was not measured") && $0.contains("unverified") })
        expectNothingLeft(folder)
    }

    @Test("a disconnected standby under writes: non-compliant, not streaming, and the heartbeat age proves the lag")
    func disconnectedStandby() async throws {
        let t = T.shared
        _ = try await t.start()
        try await t.waitCaughtUp()
        try await t.beat()
        let disconnected = Date()
        try await t.disconnectStandby()
        let folder = TempFolder("rdisc")
        let r: DrillReport
        do {
            r = try await underWrites {
                try await Task.sleep(for: .seconds(1))
                return try await runDrill(try await Self.drill(wait: "2s"), name: "disconnected", in: folder)
            }
        } catch {
            try await t.reconnectStandby()
            throw error
        }
        try await t.reconnectStandby()
        print("disconnected: findings \(r.findings)")
        #expect(r.status == .nonCompliant)
        #expect(r.findings.contains { $0.contains("Standby stby1 is not streaming") })
        let s = try standby(r)
        #expect(!s.present)
        #expect(s.receiveLatencySeconds == nil)
        #expect((s.byteGap ?? 0) > 0)
        let hb = try #require(s.heartbeat)
        #expect(hb.current == false)
        let age = try #require(hb.ageSeconds)
        #expect(age >= r.startedAt.timeIntervalSince(disconnected) + 2, "the heartbeat is older than the disconnection: \(age) s")
        #expect(s.rpoSource == "heartbeat" && s.rpoSeconds == age)
        #expect(r.findings.contains { $0.contains("newest heartbeat is") })
        expectNothingLeft(folder)
    }

    @Test("an inactive slot while the primary writes: a finding with the retained bytes")
    func inactiveSlot() async throws {
        let t = T.shared
        _ = try await t.start()
        try await t.waitCaughtUp()
        let folder = TempFolder("rslot")
        let r = try await underWrites {
            try await Task.sleep(for: .milliseconds(300))
            return try await runDrill(try await Self.drill(heartbeat: false, slots: [T.cdcSlot, T.standbySlot]), name: "cdc", in: folder)
        }
        print("slot: findings \(r.findings)")
        let slot = try #require(r.replica?.slots.first { $0.name == T.cdcSlot })
        #expect(slot.present && slot.active == false && slot.type == "logical" && slot.plugin == "pgoutput")
        let retained = try #require(slot.retainedBytesEnd)
        #expect(retained > 0)
        #expect(retained > (slot.retainedBytes ?? .max), "the slot grows while the primary writes")
        #expect(r.findings.contains { $0.contains("growing by") })
        #expect(r.findings.contains { $0.contains("Slot \(T.cdcSlot) is inactive: it retains \(retained) bytes of WAL") })
        #expect(slot.timeLagSeconds == nil && slot.timeLagSource.hasPrefix("unknown"))
        let physical = try #require(r.replica?.slots.first { $0.name == T.standbySlot })
        #expect(physical.active == true && physical.problems.isEmpty)
        expectNothingLeft(folder)
    }

    @Test("a role without pg_monitor: failed with the grant it needs, never a 0 lag")
    func roleWithoutMonitor() async throws {
        let t = T.shared
        _ = try await t.start()
        let folder = TempFolder("rnomon")
        let r = try await runDrill(try await Self.drill(user: T.nomon.user), name: "nomon", in: folder)
        #expect(r.status == .failed)
        #expect(r.failureCode == DrillError.Code.permissionDenied.rawValue)
        #expect(r.findings.contains { $0.contains("GRANT pg_monitor TO \(T.nomon.user);") }, "\(r.findings)")
        #expect(r.measured.rpoSeconds == nil)
        #expect(r.replica?.standbys.first?.receiveLatencySeconds == nil)
        #expect(ExitCode(r) == .failed)
        expectNothingLeft(folder)
    }

    @Test("a standby that cannot be reached fails the drill and names it")
    func unreachableStandby() async throws {
        let t = T.shared
        _ = try await t.start()
        let folder = TempFolder("runreach")
        let r = try await runDrill(try await Self.drill(standbyURL: try await t.url(.standby, port: 1)), name: "gone", in: folder)
        #expect(r.status == .failed)
        #expect(r.failureCode == DrillError.Code.connectionFailed.rawValue)
        #expect(r.findings.contains { $0.hasPrefix("cannot reach standby \(T.standbyName)") }, "\(r.findings)")
        expectNothingLeft(folder)
    }

    @Test("the drill command: validate, plan shows each standby's lag, replica init prints the SQL, run exits 3 without pg_monitor")
    func commandLine() async throws {
        let t = T.shared
        _ = try await t.start()
        try await t.waitCaughtUp()
        let folder = TempFolder("rcli")
        let config = try ConfigFixture(in: folder, drills: [
            "orders": try await Self.drill(heartbeat: true),
            "nomon": try await Self.drill(user: T.nomon.user, heartbeat: false),
        ])
        let env = ["TMPDIR": folder.sub("scratch")]
        let archive = folder.sub("archive")
        let validate = try await DrillBinary.run(["validate", "--config", config.directory], environment: env)
        #expect(validate.exitCode == 0, "\(validate.output)")
        #expect(validate.stdout.contains("orders: tier critical, replica postgresql://drill_monitor@127.0.0.1:"))
        let plan = try await DrillBinary.run(["plan", "orders", "--config", config.directory, "--archive", archive], environment: env)
        #expect(plan.exitCode == 0, "\(plan.output)")
        #expect(plan.stdout.contains("orders [critical, replica, embedded]"))
        #expect(plan.stdout.contains("replica probe: stby1 received in "), "\(plan.stdout)")
        #expect(plan.stdout.contains("within the RPO target of 5m"))
        let before = try await t.value(.primary, "SELECT seq::text FROM \(T.heartbeat)")
        let initSQL = try await DrillBinary.run(["replica", "init", "orders", "--config", config.directory], environment: env)
        #expect(initSQL.exitCode == 0, "\(initSQL.output)")
        #expect(initSQL.stdout.contains("GRANT pg_monitor TO \(T.monitor.user);"))
        #expect(initSQL.stdout.contains("CREATE TABLE IF NOT EXISTS \(T.heartbeat)"))
        #expect(try await t.value(.primary, "SELECT seq::text FROM \(T.heartbeat)") == before, "plan and init write nothing")
        let run = try await DrillBinary.run(["run", "nomon", "--config", config.directory, "--archive", archive], environment: env)
        #expect(run.exitCode == 3, "\(run.output)")
        #expect(run.stdout.contains("FAILED"))
        #expect(run.output.contains("GRANT pg_monitor TO \(T.nomon.user);"), "\(run.output)")
        // A real run: without clone the RTO is unverified (exit 1); metrics, JUnit and the audit report take it.
        let prom = folder.file("drill.prom"), junit = folder.file("junit.xml"), audit = folder.file("audit.html")
        let orders = try await DrillBinary.run(["run", "orders", "--config", config.directory, "--archive", archive,
                                                "--metrics-file", prom, "--junit", junit], environment: env)
        #expect(orders.exitCode == 1, "\(orders.output)")
        let metrics = try String(contentsOfFile: prom, encoding: .utf8)
        #expect(metrics.contains("drill_replication_lag_seconds{drill=\"orders\",tier=\"critical\",standby=\"stby1\"} "))
        #expect(metrics.contains("drill_replication_lag_bytes{drill=\"orders\",tier=\"critical\",standby=\"stby1\"} "))
        #expect(metrics.contains("drill_rpo_seconds{drill=\"orders\",tier=\"critical\"} "))
        let check = try ToolProcess.run("/usr/bin/promtool", ["check", "metrics"], input: Data(metrics.utf8))
        #expect(check.status == 0 && check.stdout.isEmpty && check.stderr.isEmpty, "promtool: \(check.stdout)\(check.stderr)")
        let parsed = try ToolProcess.run("/usr/bin/env", ["python3", "-c", """
            import sys
            from junitparser import JUnitXml
            for suite in JUnitXml.fromfile(sys.argv[1]):
                for case in suite:
                    print(suite.name, case.name, "passed" if case.is_passed else "failed")
            """, junit])
        #expect(parsed.status == 0, "\(parsed.stderr)")
        #expect(parsed.stdout.contains("orders standby: stby1 passed"), "\(parsed.stdout)")
        #expect(parsed.stdout.contains("orders RTO within 1h failed"))
        let report = try await DrillBinary.run(["report", "--since", "1d", "--output", audit, "--config", config.directory,
                                                "--archive", archive], environment: env)
        #expect(report.exitCode == 0, "\(report.output)")
        let html = try String(contentsOfFile: audit, encoding: .utf8)
        #expect(html.contains("RPO per run (target 5m)"))
        #expect(html.contains("orders"))
        expectNothingLeft(folder)
    }
}
