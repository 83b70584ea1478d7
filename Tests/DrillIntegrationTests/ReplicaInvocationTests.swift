@testable import DrillLive
import DrillCore
import Foundation
import Testing

/// The live replica adapters' pure parts: the libpq keywords of production sessions, pg_basebackup's arguments, the
/// clone's settings, reading a cloned configuration, and the bound on a wait that never ends.
@Suite("Replica drills: sessions, pg_basebackup and clone settings")
struct ReplicaInvocationTests {
    let limits = ReplicaLimits(connect: .seconds(10), statement: .seconds(30))

    @Test func monitorSessionsAreReadOnlyAndBounded() throws {
        let p = try LibPQReplicaLink.parameters("postgresql://drill@db:5432/postgres?options=-c%20search_path%3Dx", kind: .monitor, limits: limits)
        #expect(p.keywords["application_name"] == "drill-replica")
        #expect(p.keywords["connect_timeout"] == "10")
        #expect(p.keywords["keepalives"] == "1" && p.keywords["tcp_user_timeout"] == "30000")
        let options = try #require(p.keywords["options"])
        #expect(options.hasPrefix("-c search_path=x "), "the user's options are kept: \(options)")
        #expect(options.contains("-c default_transaction_read_only=on"))
        #expect(options.contains("-c statement_timeout=30000") && options.contains("-c lock_timeout=5000"))
        #expect(!options.contains("read_only=off"))
        #expect(p.keywords["user"] == "drill" && p.keywords["host"] == "db" && p.keywords["password"] == nil)
    }

    @Test func theHeartbeatSessionMayWriteButNeverWaitsForASynchronousStandby() throws {
        let p = try LibPQReplicaLink.parameters("host=db user=drill dbname=postgres", kind: .heartbeat, limits: limits)
        let options = try #require(p.keywords["options"])
        #expect(options.contains("-c default_transaction_read_only=off") && options.contains("-c synchronous_commit=local"))
        #expect(p.keywords["application_name"] == "drill-heartbeat")
    }

    @Test func aBadURLNamesTheKey() {
        #expect(throws: DrillError.self) { try LibPQReplicaLink.parameters("postgresql://[::1", kind: .monitor, limits: limits) }
        do { _ = try LibPQReplicaLink().checkConnection("nonsense=1", database: nil, limits: limits) } catch let e as DrillError {
            #expect(e.message.hasPrefix("replica.standbys[].url is not a valid libpq connection string"))
        } catch { Issue.record("unexpected \(error)") }
    }

    @Test func pgBaseBackupNeverCreatesASlotAndNeverPrompts() {
        let args = PgBaseBackupCloner.baseBackupArguments(dataDirectory: "/s/data", maxRate: "50M")
        #expect(args == ["--pgdata=/s/data", "--write-recovery-conf", "--wal-method=stream", "--checkpoint=fast", "--no-slot",
                         "--no-password", "--no-sync", "--label=drill clone", "--max-rate=50M"])
        #expect(!PgBaseBackupCloner.baseBackupArguments(dataDirectory: "/d", maxRate: nil).contains { $0.hasPrefix("--max-rate") })
    }

    @Test func theCloneOverridesProductionsReplicationIdentity() {
        let s = PgBaseBackupCloner.settings(profile: .durable, memoryBytes: 8 << 30, clusterName: "drill-clone-x")
        func last(_ k: String) -> String? { s.last { $0.0 == k }?.1 }
        #expect(last("primary_slot_name") == "" && last("synchronous_standby_names") == "" && last("primary_conninfo") == "")
        #expect(last("archive_mode") == "off" && last("archive_command") == "" && last("archive_cleanup_command") == "")
        #expect(last("restore_command") == "" && last("recovery_end_command") == "")
        #expect(last("hot_standby") == "on" && last("listen_addresses") == "" && last("cluster_name") == "drill-clone-x")
        #expect(last("shared_buffers") == "128MB" && last("fsync") == "on")
    }

    @Test func aClonedConfigurationIsReadLaterLinesWinning() throws {
        let conf = """
            # production
            port = 5432
            synchronous_standby_names = 'ANY 1 (a, b)'   # trailing comment
            primary_slot_name=stby1_slot
            cluster_name = 'it''s'
            """
        let auto = """
            primary_conninfo = 'user=repl password=s3cret host=db'
            synchronous_standby_names = '*'
            """
        let all = ClonedConfiguration.settings(in: [conf, auto])
        #expect(all["synchronous_standby_names"] == "*")
        #expect(all["primary_slot_name"] == "stby1_slot")
        #expect(all["cluster_name"] == "it's")
        #expect(all["port"] == "5432")
        let shown = ClonedConfiguration.replicationSettings(all)
        #expect(shown["primary_conninfo"] == "(set)", "a connection string is never reported")
        #expect(shown["port"] == nil)

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("drill-clonecfg-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/postgresql.auto.conf"
        try auto.write(toFile: path, atomically: true, encoding: .utf8)
        try ClonedConfiguration.removeSetting("primary_conninfo", in: path)
        let left = try String(contentsOfFile: path, encoding: .utf8)
        #expect(!left.contains("s3cret") && left.contains("synchronous_standby_names = '*'"))
    }

    @Test func aWaitThatNeverEndsIsBounded() async throws {
        let clock = ContinuousClock()
        let t0 = clock.now
        await #expect(throws: Bounded.Timeout.self) {
            try await Bounded.run(within: .milliseconds(100)) {
                // Ignores cancellation for 10 s, as a blocked libpq call would: far longer than a loaded machine can
                // delay the 100 ms limit, so the limit, not the body, ends the wait.
                for _ in 0..<500 { try? await Task.sleep(for: .milliseconds(20)) }
                return 0
            }
        }
        #expect(t0.duration(to: clock.now) < .seconds(8), "the wait ended with the limit, not with the body")
        let v = try await Bounded.run(within: .seconds(5)) { 42 }
        #expect(v == 42)
        await #expect(throws: Bounded.Timeout.self) {
            try await Bounded.blocking(within: .milliseconds(100), { usleep(3_000_000); return 1 }, abandon: { _ in })
        }
    }
}
