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
        let s = try standby(r)
        #expect(s.present && s.state == "streaming" && s.inRecovery == true && s.problems.isEmpty, "\(s.problems)")
        let rpo = try #require(r.measured.rpoSeconds)
        #expect(rpo < 5, "the measured RPO of a healthy pair is well under a second (\(rpo) s here, under load)")
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
        // The primary's slots and archive are as before: the standby still holds its slot; nothing on timeline 2.
        let slotsAfter = try await t.slots()
        #expect(slotsAfter == slotsBefore)
        let archiveAfter = try await t.archive()
        for (name, digest) in archiveBefore { #expect(archiveAfter[name] == digest, "\(name) changed or vanished") }
        #expect(!archiveAfter.keys.contains { $0.hasPrefix("00000002") }, "the clone archived into production")
        try await t.waitCaughtUp()
        expectNothingLeft(folder)
    }
}
