import DrillCore
@testable import DrillLive
import DrillTesting
import Foundation
import Testing

/// SIGKILL of drill (the OOM killer, a scheduler's hard timeout) leaves no server running, and what it leaves on disk
/// is removed by `drill cleanup` or by the next drill that provisions (docs/security.md).
@Suite("A drill killed with SIGKILL leaves nothing running, and its leftovers are cleaned up", .timeLimit(.minutes(10)))
struct HardKillTests {
    /// Processes drill started (its descendants, the watchdog included) and every process of the scratch accounts
    /// among them, as (pid, start ticks).
    static func snapshot(of drill: Int32) -> [RunItem.Process] {
        ProcessTable.descendants(of: drill).map { RunItem.Process(pid: $0.pid, startTicks: $0.startTicks) }
    }

    static func command(_ pid: Int32) -> String {
        (FileManager.default.contents(atPath: "/proc/\(pid)/cmdline")).map { String(decoding: $0.map { $0 == 0 ? 32 : $0 }, as: UTF8.self) } ?? ""
    }

    /// Waits until none of `processes` is alive (a zombie is dead); returns the survivors.
    static func waitGone(_ processes: [RunItem.Process], within seconds: Double) async -> [RunItem.Process] {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            let alive = processes.filter { ProcessTable.isAlive(pid: $0.pid, startTicks: $0.startTicks) }
            if alive.isEmpty || Date() > deadline { return alive }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Waits until drill has a descendant matching `predicate`.
    static func waitForDescendant(of drill: Int32, within seconds: Double, _ predicate: (ProcessTable.Entry) -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if ProcessTable.descendants(of: drill).contains(where: predicate) { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    /// The direct children of `pid` (of all its threads), from `/proc/<pid>/task/*/children`: cheap enough to poll.
    static func children(of pid: Int32) -> [Int32] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        return tasks.flatMap { tid in
            (FileManager.default.contents(atPath: "/proc/\(pid)/task/\(tid)/children")).map {
                String(decoding: $0, as: UTF8.self).split(separator: " ").compactMap { Int32($0) }
            } ?? []
        }
    }

    /// Waits until `needle` shows in drill's stderr; false at once when drill has exited without it.
    static func waitFor(_ needle: String, in watcher: StreamWatcher, of child: ChildProcess, timeout: Double) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if watcher.contents.contains(needle) { return true }
            if !child.isRunning {
                try? await Task.sleep(for: .milliseconds(200))  // the rest of its output
                return watcher.contents.contains(needle)
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return watcher.contents.contains(needle)
    }

    static func isScratchAccount(_ e: ProcessTable.Entry) -> Bool {
        e.uids.contains { uid in UserDatabase.account(uid: uid)?.name.hasPrefix(ScratchAccounts.namePrefix) ?? false }
    }

    @Test("SIGKILL during a pg_restore -j2: the server, pg_restore and the watchdog are gone within seconds, no child saw the AWS secret, and drill cleanup removes the cluster")
    func killDuringRestore() async throws {
        let folder = TempFolder("kill9")
        let backups = folder.sub("backups")
        // A real custom dump whose restore takes a minute: pg_restore refreshes a materialized view over pg_sleep.
        try await HostileDumps.customWithMaterializedView("slow_restore", body: "PERFORM pg_sleep(60);",
                                                          to: (backups as NSString).appendingPathComponent("slow.dump"))
        let config = try ConfigFixture(in: folder, drills: ["slow": ConfigFixture.drill(location: backups, jobs: 2)])
        let archive = folder.sub("archive")
        let scratch = folder.sub("scratch")
        let secret = "drill-test-secret-\(UUID().uuidString)"
        let child = try DrillBinary.start(["run", "slow", "--config", config.directory, "--archive", archive],
                                          environment: ["TMPDIR": scratch, "AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": secret])
        let watcher = StreamWatcher(try #require(child.stderrPipe))
        #expect(await Self.waitFor("restore: started", in: watcher, of: child, timeout: 300), "\(watcher.contents)")
        let restoring = await Self.waitForDescendant(of: child.pid, within: 60) { Self.command($0.pid).contains("pg_restore") }
        #expect(restoring, "pg_restore never ran: \(watcher.contents)")
        try await Task.sleep(for: .seconds(1))  // the view's refresh is under way

        let processes = Self.snapshot(of: child.pid)
        let server = ProcessTable.descendants(of: child.pid).filter(Self.isScratchAccount)
        #expect(!server.isEmpty, "the scratch server runs as a drill-scratch account")
        #expect(processes.contains { Self.command($0.pid).contains("pg_restore") })
        // The secret is in drill's own environment and in no other process's.
        #expect(HostileDumps.processesHolding(secret, except: [child.pid]).isEmpty,
                "\(HostileDumps.processesHolding(secret, except: [child.pid]).map(Self.command))")

        kill(child.pid, SIGKILL)
        _ = await child.wait()
        let survivors = await Self.waitGone(processes, within: 15)
        #expect(survivors.isEmpty, "still running after drill's SIGKILL: \(survivors.map { Self.command($0.pid) })")
        let cluster = Leftovers.scratchEntries(in: scratch).filter { $0.hasPrefix("drill-slow-") }
        #expect(cluster.count == 1, "the killed drill's cluster folder is left on disk: \(Leftovers.scratchEntries(in: scratch))")
        #expect(try await ReportArchive(storage: LocalArchiveStorage(root: archive)).reports().reports.isEmpty, "no report")

        let cleanup = try await DrillBinary.run(["cleanup"], environment: ["TMPDIR": scratch])
        #expect(cleanup.exitCode == 0, "\(cleanup.output)")
        #expect(cleanup.stdout.contains("removed: run pid \(child.pid) started"), "\(cleanup.output)")
        #expect(cleanup.stdout.contains("(drill slow) died without a report: removed 1 scratch cluster"), "\(cleanup.output)")
        #expect(cluster.allSatisfy { cleanup.stdout.contains($0) }, "names the folder: \(cleanup.output)")
        #expect(Leftovers.scratchEntries(in: scratch).isEmpty, "\(Leftovers.scratchEntries(in: scratch))")
        let notice = try #require(RunCleanup.pendingNotices(scratchRoot: scratch).first)
        #expect(notice.drill == "slow" && notice.pid == child.pid && notice.bytes > 1_000_000)
        #expect(notice.finding.hasPrefix("The previous run, pid \(child.pid) started "))
        #expect(notice.finding.contains("died without a report; its scratch cluster and \(notice.bytes) bytes of restored data were removed"))
        let again = try await DrillBinary.run(["cleanup"], environment: ["TMPDIR": scratch])
        #expect(again.stdout.contains("nothing to clean up"), "\(again.output)")
    }

    @Test("SIGKILL during a download: the scratch server provisioned meanwhile is gone within seconds; the next drill removes the cluster and the staged download before it provisions, and its report says so")
    func killDuringDownload() async throws {
        let folder = TempFolder("kill9dl")
        let served = folder.sub("served")
        _ = try copy(try await Shop.shared.dump(.custom), into: served, as: "shop.dump")
        let http = try await StaticHTTPServer(directory: served)
        defer { http.stop() }
        // 100 kB of the dump, then silence: the download stays under way.
        let proxy = try await FaultProxy(upstreamPort: http.port, match: "shop.dump", faults: ["stall:100000", "stall:100000", "stall:100000"])
        defer { proxy.stop() }
        let scratch = folder.sub("scratch")
        let config = try ConfigFixture(in: folder, drills: [
            "shop": ConfigFixture.drill(location: "\(proxy.endpoint)/shop.dump", jobs: 2),
        ])
        let archive = folder.sub("archive")
        let child = try DrillBinary.start(["run", "shop", "--config", config.directory, "--archive", archive],
                                          environment: ["TMPDIR": scratch])
        let watcher = StreamWatcher(try #require(child.stderrPipe))
        #expect(await Self.waitFor("✓ provision", in: watcher, of: child, timeout: 300), "\(watcher.contents)")
        #expect(!watcher.contents.contains("✓ fetch"), "the download must still be under way: \(watcher.contents)")
        let processes = Self.snapshot(of: child.pid)
        #expect(ProcessTable.descendants(of: child.pid).contains(where: Self.isScratchAccount))
        kill(child.pid, SIGKILL)
        _ = await child.wait()
        let survivors = await Self.waitGone(processes, within: 15)
        #expect(survivors.isEmpty, "still running after drill's SIGKILL: \(survivors.map { Self.command($0.pid) })")
        #expect(Leftovers.scratchEntries(in: scratch).contains { $0.hasPrefix("drill-shop-") })
        #expect(Leftovers.scratchEntries(in: scratch).contains { $0.hasPrefix("drill-stage-shop-") }, "the staged part of the download")

        // The next run of the drill cleans the dead run's cluster and staging folder before it provisions its own.
        let backups = folder.sub("backups")
        _ = try copy(try await Shop.shared.dump(.custom), into: backups, as: "shop.dump")
        let next = try ConfigFixture(in: folder, drills: ["shop": ConfigFixture.drill(location: backups)])
        let run = try await DrillBinary.run(["run", "shop", "--config", next.directory, "--archive", archive, "--log-level", "notice"],
                                            environment: ["TMPDIR": scratch])
        #expect(run.exitCode == 0, "\(run.output)")
        #expect(run.stderr.contains("removed what a dead drill left"), "\(run.stderr)")
        #expect(Leftovers.scratchEntries(in: scratch).isEmpty, "\(Leftovers.scratchEntries(in: scratch))")
        let report = try #require(try await ReportArchive(storage: LocalArchiveStorage(root: archive)).reports().reports.first?.report)
        let finding = try #require(report.findings.first { $0.hasPrefix("The previous run, pid \(child.pid) started ") }, "\(report.findings)")
        #expect(finding.contains("died without a report; its scratch cluster and "))
        #expect(finding.contains(" bytes of restored data were removed"))
        #expect(report.status == .compliant, "a notice, not a failure: \(report.findings)")
        #expect(RunCleanup.pendingNotices(scratchRoot: scratch).isEmpty, "the notice went into that report")
    }

    @Test("--keep: the kept cluster outlives drill (its watchdog stands down), and the next drill neither kills it nor takes its account")
    func keptClusterSurvives() async throws {
        let folder = TempFolder("keep")
        let backups = folder.sub("backups")
        _ = try copy(try await Shop.shared.dump(.custom), into: backups, as: "shop.dump")
        let config = try ConfigFixture(in: folder, drills: ["shop": ConfigFixture.drill(location: backups)])
        let archive = folder.sub("archive")
        let scratch = folder.sub("scratch")
        let kept = try await DrillBinary.run(["run", "shop", "--keep", "--config", config.directory, "--archive", archive],
                                             environment: ["TMPDIR": scratch])
        #expect(kept.exitCode == 0, "\(kept.output)")
        try await Task.sleep(for: .seconds(1))
        let servers = Leftovers.postgresProcesses(under: scratch)
        defer {
            for pid in servers { kill(pid, SIGQUIT) }
        }
        #expect(servers.count == 1, "the kept server runs after drill exited")
        let server = try #require(servers.first.flatMap(ProcessTable.entry))
        // Another drill in the same scratch root: it cleans dead runs and leases an account, but the kept cluster is
        // neither a dead run nor an idle account.
        let other = try await DrillBinary.run(["run", "shop", "--config", config.directory, "--archive", archive],
                                              environment: ["TMPDIR": scratch])
        #expect(other.exitCode == 0, "\(other.output)")
        #expect(ProcessTable.isAlive(pid: server.pid, startTicks: server.startTicks), "the next drill killed the kept server")
        let cleanup = try await DrillBinary.run(["cleanup"], environment: ["TMPDIR": scratch])
        #expect(cleanup.stdout.contains("nothing to clean up"), "\(cleanup.output)")
        #expect(ProcessTable.isAlive(pid: server.pid, startTicks: server.startTicks), "drill cleanup killed the kept server")
        // The kept cluster is the user's to stop: its cgroup (empty once the server is gone) goes with it here.
        let cgroup = (ProcessTable.read("/proc/\(server.pid)/cgroup") ?? "").split(separator: "\n")
            .first { $0.hasPrefix("0::/") }.map { String($0.dropFirst(3)) }
        kill(server.pid, SIGQUIT)
        #expect(await Self.waitGone([RunItem.Process(pid: server.pid, startTicks: server.startTicks)], within: 15).isEmpty)
        if let cgroup, cgroup.contains("/drill-"), let mount = ScratchCgroup.mountPoint {
            #expect(ScratchCgroup(path: mount + cgroup).remove(within: 10))
        }
        for entry in Leftovers.scratchEntries(in: scratch) { try? FileManager.default.removeItem(atPath: (scratch as NSString).appendingPathComponent(entry)) }
    }

    @Test("SIGKILL during the WAL replay of a basebackup drill: the recovering server is gone within seconds, and the next run's report says the previous one died and what was removed")
    func killDuringWALReplay() async throws {
        let source = try await ArchivingCluster.start("killwal")
        let folder = TempFolder("kill9wal")
        let backups = folder.sub("backups")
        try await source.psql("CREATE DATABASE ledger")
        try await source.psql("CREATE TABLE entries (id bigserial PRIMARY KEY, note text, created_at timestamptz NOT NULL DEFAULT clock_timestamp())",
                              database: "ledger")
        try await source.baseBackup(into: (backups as NSString).appendingPathComponent("base"), ["-Ft"])
        // WAL to replay after the backup: enough that replay lasts long enough to be caught on a loaded machine.
        try await source.psql("INSERT INTO entries (note) SELECT repeat('x', 200) FROM generate_series(1, 200000)", database: "ledger")
        try await source.psql("UPDATE entries SET note = repeat('y', 200)", database: "ledger")
        try await source.switchWAL()
        let drill = """
            { "version": 1, "tier": "critical",
              "backup": { "location": "\(backups)", "format": "basebackup", "settle": "0s" },
              "wal": { "location": "\(source.archive)" },
              "database": "ledger", "restore": { "profile": "fast" },
              "checks": [ { "name": "entries", "sql": "SELECT count(*) FROM entries", "expect": { "equals": 200000 } } ] }
            """
        let config = try ConfigFixture(in: folder, drills: ["ledger": drill])
        let archive = folder.sub("archive")
        let scratch = folder.sub("scratch")
        let child = try DrillBinary.start(["run", "ledger", "--config", config.directory, "--archive", archive],
                                          environment: ["TMPDIR": scratch])
        let watcher = StreamWatcher(try #require(child.stderrPipe))
        #expect(await Self.waitFor("wal_fetch: started", in: watcher, of: child, timeout: 300), "\(watcher.contents)")
        // The startup process replaying the WAL is held where it is (SIGSTOP), so the kill lands during the replay. The
        // server's children are polled through /proc/<pid>/task/*/children on a thread of its own (the concurrency pool
        // may be busy), fast enough to see it start.
        let drillPID = child.pid
        let startup: Int32? = await withCheckedContinuation { k in
            Thread {
                let deadline = Date().addingTimeInterval(300)
                var server: Int32?
                var round = 0
                while Date() < deadline && child.isRunning {
                    // Cheap and fast: the server's own children (one /proc file); every 50th round, any descendant of
                    // drill that is a scratch account's startup process, whatever the tree's shape.
                    // The server: a child of drill of a scratch account that is postgres (tar extracts as that account
                    // too, before the server starts), forgotten when it is gone.
                    if let s = server, ProcessTable.entry(s).map({ !$0.isZombie }) != true { server = nil }
                    if server == nil {
                        server = Self.children(of: drillPID).first {
                            ProcessTable.entry($0).map(Self.isScratchAccount) == true && Self.command($0).contains("postgres")
                        }
                    }
                    var found = server.flatMap { s in Self.children(of: s).first { Self.command($0).contains("startup") } }
                    if found == nil && round % 20 == 0 {
                        found = ProcessTable.descendants(of: drillPID).first {
                            Self.isScratchAccount($0) && Self.command($0.pid).contains("startup")
                        }?.pid
                    }
                    if let s = found {
                        kill(s, SIGSTOP)
                        return k.resume(returning: s)
                    }
                    round += 1
                    usleep(1000)
                }
                k.resume(returning: nil)
            }.start()
        }
        let replaying = try #require(startup.flatMap(ProcessTable.entry), "no startup process seen: \(watcher.contents)")
        #expect(watcher.contents.contains("wal_replay: started"), "\(watcher.contents)")
        let processes = Self.snapshot(of: child.pid)
        #expect(processes.contains { $0.pid == replaying.pid })
        kill(child.pid, SIGKILL)
        _ = await child.wait()
        let survivors = await Self.waitGone(processes, within: 15)
        #expect(survivors.isEmpty, "still running after drill's SIGKILL: \(survivors.map { Self.command($0.pid) })")
        #expect(Leftovers.scratchEntries(in: scratch).contains { $0.hasPrefix("drill-ledger-") })

        let next = try await DrillBinary.run(["run", "ledger", "--config", config.directory, "--archive", archive],
                                             environment: ["TMPDIR": scratch])
        #expect(next.exitCode == 0, "\(next.output)")
        let report = try #require(try await ReportArchive(storage: LocalArchiveStorage(root: archive)).reports().reports.first?.report)
        let finding = try #require(report.findings.first { $0.hasPrefix("The previous run, pid \(child.pid) started ") }, "\(report.findings)")
        #expect(finding.contains("died without a report; its scratch cluster and "), "\(finding)")
        #expect(report.checks.first?.observed == "200000")
        #expect(Leftovers.scratchEntries(in: scratch).isEmpty, "\(Leftovers.scratchEntries(in: scratch))")
        await source.stop()
    }

    /// The paths of the private GnuPG homes a drill's run records (kind `gnupg`) under `scratch`.
    static func registeredGnuPGHomes(_ scratch: String) -> [String] {
        let dir = (scratch as NSString).appendingPathComponent(".drill-runs")
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".json") }.flatMap { name -> [String] in
            guard let data = FileManager.default.contents(atPath: (dir as NSString).appendingPathComponent(name)),
                  let record = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let items = record["items"] as? [[String: Any]] else { return [] }
            return items.filter { $0["kind"] as? String == "gnupg" }.flatMap { $0["paths"] as? [String] ?? [] }
        }
    }

    @Test("SIGKILL while gpg decrypts: the private GnuPG home and its gpg-agent outlive drill; drill cleanup, or the next run, stops the agent, deletes the copy and names it",
          arguments: ["cleanup", "next run"])
    func killWhileDecrypting(then: String) async throws {
        let folder = TempFolder("kill9gpg")
        let home = try await EncodedDumps.gnupgHome(email: "kill@drill.invalid")
        defer { Task { await EncodedDumps.removeGnuPGHome(home) } }
        let served = folder.sub("served"), backups = folder.sub("backups")
        let encrypted = (served as NSString).appendingPathComponent("shop.dump.gpg")
        let dump = folder.file("bulk.dump")
        try await EncodedDumps.bulkDump("kill_gpg_\(then == "cleanup" ? "c" : "n")", rows: 60_000, format: .custom, to: dump)
        try await EncodedDumps.gpgEncrypt(dump, home: home, to: "kill@drill.invalid", into: encrypted)
        _ = try copy(encrypted, into: backups, as: "shop.dump.gpg")
        let size = try #require(try FileManager.default.attributesOfItem(atPath: encrypted)[.size] as? Int)
        #expect(size > 1_000_000, "the stall cuts the download short (\(size) bytes)")
        // The first 100 kB of each download, then silence: the kill lands while gpg decrypts.
        let http = try await StaticHTTPServer(directory: served)
        defer { http.stop() }
        let proxy = try await FaultProxy(upstreamPort: http.port, match: "shop.dump.gpg", faults: Array(repeating: "stall:100000", count: 6))
        defer { proxy.stop() }
        let decrypt = #"{ "gpg_homedir": "\#(home)" }"#
        let scratch = folder.sub("scratch"), archive = folder.sub("archive")
        let checks = #"[ { "name": "bulk", "sql": "SELECT count(*) FROM bulk", "expect": { "equals": 60000 } } ]"#
        let config = try ConfigFixture(in: folder, drills: ["shop": encodedDrill(location: "\(proxy.endpoint)/shop.dump.gpg", decrypt: decrypt, checks: checks)])
        let child = try DrillBinary.start(["run", "shop", "--config", config.directory, "--archive", archive], environment: ["TMPDIR": scratch])
        let watcher = StreamWatcher(try #require(child.stderrPipe))
        #expect(await Self.waitFor("restore: started", in: watcher, of: child, timeout: 300), "\(watcher.contents)")
        let copyPath = try #require(Self.registeredGnuPGHomes(scratch).first, "the private GnuPG home is in the run registry")
        #expect(copyPath.hasPrefix(scratch + "/drill-gnupg-"))
        let agents = EncodedDumps.gpgAgents(homeContaining: copyPath).compactMap { RunItem.Process.of($0) }
        #expect(!agents.isEmpty, "gpg-agent runs on the copy while gpg decrypts")
        kill(child.pid, SIGKILL)
        _ = await child.wait()
        try await Task.sleep(for: .seconds(1))
        #expect(agents.allSatisfy { ProcessTable.isAlive(pid: $0.pid, startTicks: $0.startTicks) }, "gpg-agent outlives drill (a daemon)")
        #expect(FileManager.default.fileExists(atPath: copyPath))

        let finding: String
        if then == "cleanup" {
            let cleanup = try await DrillBinary.run(["cleanup"], environment: ["TMPDIR": scratch])
            #expect(cleanup.exitCode == 0, "\(cleanup.output)")
            #expect(cleanup.stdout.contains("(drill shop) died without a report: removed 1 scratch cluster, 1 private GnuPG home (gpg-agent stopped)"),
                    "\(cleanup.output)")
            #expect(cleanup.stdout.contains(copyPath), "names the copy: \(cleanup.output)")
            finding = try #require(RunCleanup.pendingNotices(scratchRoot: scratch).first { $0.pid == child.pid }).finding
        } else {
            let next = try ConfigFixture(in: folder, drills: ["shop": encodedDrill(location: backups, decrypt: decrypt, checks: checks)])
            let run = try await DrillBinary.run(["run", "shop", "--config", next.directory, "--archive", archive], environment: ["TMPDIR": scratch])
            #expect(run.exitCode == 0, "\(run.output)")
            let report = try #require(try await ReportArchive(storage: LocalArchiveStorage(root: archive)).reports().reports.first?.report)
            #expect(report.status == .compliant, "\(report.findings)")
            finding = try #require(report.findings.first { $0.hasPrefix("The previous run, pid \(child.pid) started ") }, "\(report.findings)")
        }
        #expect(finding.contains("its private GnuPG home (the copy of backup.decrypt.gpg_homedir) \(copyPath) was deleted after its gpg-agent was stopped"),
                "\(finding)")
        #expect(await Self.waitGone(agents, within: 10).isEmpty, "gpg-agent still running on the removed copy")
        #expect(!FileManager.default.fileExists(atPath: copyPath))
        #expect(Leftovers.scratchEntries(in: scratch).isEmpty, "\(Leftovers.scratchEntries(in: scratch))")
        #expect(Self.registeredGnuPGHomes(scratch).isEmpty)
    }
}
