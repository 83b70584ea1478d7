import DrillCore
import DrillLive
import DrillTesting
import Foundation
import Logging
import Testing

/// pg_basebackup + WAL archive restored into a scratch cluster, against a real source with archive_mode = on.
/// Serialized: the tests share one source cluster and reason about which commits its archive holds.
@Suite("Physical backups and point-in-time recovery", .serialized, .timeLimit(.minutes(5)))
struct PhysicalRestoreTests {
    /// A drill file restoring the newest base backup under `backups`, replaying `wal`.
    static func drill(backups: String, wal: String, target: String? = nil, database: String = "pitr",
                      checks: String = "[]", tier: String = "critical") -> String {
        """
        { "version": 1, "tier": "\(tier)",
          "backup": { "location": "\(backups)", "format": "basebackup", "settle": "0s" },
          "wal": { "location": "\(wal)" },
          \(target.map { #""recovery": { "target": "\#($0)" },"# } ?? "")
          "database": "\(database)",
          "restore": { "profile": "fast" },
          "checks": \(checks) }
        """
    }

    static func count(_ batch: String, equals n: Int) -> String {
        #"{ "name": "batch \#(batch)", "sql": "SELECT count(*) FROM ledger WHERE batch = '\#(batch)'", "expect": { "equals": \#(n) } }"#
    }

    let source = PhysicalSource.shared

    /// The drill must never write into the source's WAL archive (the restored copy runs with archive_mode = off).
    static func expectArchiveUnchanged(since before: [String], sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let after = try await PhysicalSource.shared.archiveListing()
        #expect(after == before, "the drill wrote into the source archive: \(Set(after).subtracting(before).sorted())",
                sourceLocation: sourceLocation)
    }

    @Test("a drill to latest replays the writes made after the base backup; the recovery point is the last commit",
          arguments: [["-Ft"], ["-Ft", "-z"], ["-Fp"], ["-Ft", "-X", "none"]])
    func latest(format: [String]) async throws {
        let folder = TempFolder("pitr")
        let backups = folder.sub("backups")
        try await source.createLedger("pitr")
        let tag = "L\(UUID().uuidString.prefix(6))"
        try await source.insert(batch: tag + "-before", rows: 500, into: "pitr")
        try await source.baseBackup(into: (backups as NSString).appendingPathComponent("base-1"), format)
        try await source.insert(batch: tag + "-after", rows: 700, into: "pitr")
        let lastCommit = try await source.lastRowTime(batch: tag + "-after", in: "pitr")
        try await source.switchWAL()
        let (_, archive) = try await source.start()
        let before = try await source.archiveListing()

        let checks = "[\(Self.count(tag + "-before", equals: 500)), \(Self.count(tag + "-after", equals: 700))]"
        let report = try await runDrill(Self.drill(backups: backups, wal: archive, checks: checks), name: "pitr", in: folder)

        #expect(report.status == .compliant, "findings: \(report.findings)")
        #expect(report.backup.format == "basebackup")
        #expect(report.checks.map(\.observed) == ["500", "700"])
        #expect(report.measured.recoveryPointSource == "wal_replay")
        let rp = try #require(report.measured.recoveryPoint)
        #expect(abs(rp.timeIntervalSince(lastCommit)) < 1, "recovery point \(rp) vs last commit \(lastCommit)")
        // A tar-format backup is streamed and its WAL fetched while it is extracted: wal_fetch starts inside extract.
        let overlapped = format.contains("-Ft")
        #expect(report.phases.map(\.name) == (overlapped ? ["fetch", "provision", "extract", "wal_fetch", "verify", "wal_replay", "checks"]
                                                          : ["fetch", "provision", "extract", "verify", "wal_fetch", "wal_replay", "checks"]))
        if overlapped, let extract = report.phases.first(where: { $0.name == "extract" }),
           let walFetch = report.phases.first(where: { $0.name == "wal_fetch" }) {
            #expect(walFetch.startOffsetSeconds < extract.startOffsetSeconds + extract.seconds, "WAL is fetched while the backup is extracted")
        }
        #expect(report.phases.allSatisfy { $0.ok })
        let wal = try #require(report.wal)
        #expect(wal.version == 1)
        #expect(wal.segmentsFetched >= 1)
        #expect(wal.bytesFetched >= Int64(wal.segmentsFetched) * 16 * 1024 * 1024)
        #expect(wal.firstMissingSegment == nil)
        #expect(wal.target == "latest")
        #expect(wal.targetTime == nil)
        #expect(wal.timeline.map { $0 >= 2 } == true, "a promoted restore is on a new timeline")
        #expect(wal.backupEndSource == "backup_history_file")
        #expect(report.scratch.removed)
        // Nothing was written into the source's archive, and nothing of the drill remains.
        try await Self.expectArchiveUnchanged(since: before)
        expectNothingLeft(folder)
    }

    @Test("point-in-time recovery to a timestamp between two batches: the first is present, the second absent")
    func pointInTime() async throws {
        let folder = TempFolder("pitr-t")
        let backups = try await source.freshBaseBackup(in: folder, ["-Ft"])
        // The backup's STOP TIME has whole seconds (drill rounds it up): write after the next second has begun.
        try await Task.sleep(for: .milliseconds(1100))
        let tag = "T\(UUID().uuidString.prefix(6))"
        let firstDone = try await source.insert(batch: tag + "-first", rows: 300, into: "pitr")
        let firstCommit = try await source.lastRowTime(batch: tag + "-first", in: "pitr")
        try await Task.sleep(for: .milliseconds(1200))
        let target = firstDone.addingTimeInterval(0.6)
        try await Task.sleep(for: .milliseconds(1200))
        try await source.insert(batch: tag + "-second", rows: 300, into: "pitr")
        try await source.switchWAL()
        let (_, archive) = try await source.start()
        let before = try await source.archiveListing()

        let checks = "[\(Self.count(tag + "-first", equals: 300)), \(Self.count(tag + "-second", equals: 0))]"
        let targetText = RFC3339.format(target, fractional: true)
        let report = try await runDrill(Self.drill(backups: backups, wal: archive, target: targetText, checks: checks),
                                        name: "pitr", in: folder)
        #expect(report.status == .compliant, "findings: \(report.findings)")
        #expect(report.checks.map(\.observed) == ["300", "0"])
        let wal = try #require(report.wal)
        #expect(wal.target == targetText)
        #expect(wal.targetTime.map { abs($0.timeIntervalSince(target)) < 0.001 } == true)
        let rp = try #require(report.measured.recoveryPoint)
        #expect(abs(rp.timeIntervalSince(firstCommit)) < 1)
        // RPO for an explicit target: the gap between the target and the last replayed commit.
        let rpo = try #require(report.measured.rpoSeconds)
        #expect(rpo >= 0 && rpo < 2, "rpo \(rpo)")
        try await Self.expectArchiveUnchanged(since: before)
        expectNothingLeft(folder)
    }

    @Test("a random target is chosen between the backup's end and the last archived commit, recorded, and reached")
    func randomTarget() async throws {
        let folder = TempFolder("pitr-r")
        let backups = try await source.freshBaseBackup(in: folder, ["-Ft"])
        try await Task.sleep(for: .milliseconds(1100))
        let tag = "R\(UUID().uuidString.prefix(6))"
        try await source.insert(batch: tag, rows: 100, into: "pitr")
        let last = try await source.lastRowTime(batch: tag, in: "pitr")
        try await source.switchWAL()
        let (_, archive) = try await source.start()
        let before = try await source.archiveListing()
        let report = try await runDrill(Self.drill(backups: backups, wal: archive, target: "random"), name: "pitr", in: folder)
        #expect(report.status == .compliant, "findings: \(report.findings)")
        let wal = try #require(report.wal)
        let chosen = try #require(wal.targetTime)
        let end = try #require(wal.backupEndAt)
        #expect(chosen >= end.addingTimeInterval(-0.001) && chosen <= last.addingTimeInterval(0.001), "\(end) ≤ \(chosen) ≤ \(last)")
        try await Self.expectArchiveUnchanged(since: before)
        expectNothingLeft(folder)
    }

    @Test("a missing segment is reported as a gap, with its name, and the drill fails")
    func gap() async throws {
        let folder = TempFolder("pitr-gap")
        let backups = try await source.freshBaseBackup(in: folder, ["-Ft"])
        var switched: [String] = []
        for i in 0..<3 {
            try await source.insert(batch: "gap-\(i)", rows: 50, into: "pitr")
            switched.append(try await source.switchWAL())
        }
        // A copy of the archive with the middle one of the three new segments removed.
        let (_, archive) = try await source.start()
        let copy = folder.file("archive")
        try FileManager.default.copyItem(atPath: archive, toPath: copy)
        try FileManager.default.removeItem(atPath: (copy as NSString).appendingPathComponent(switched[1]))

        let report = try await runDrill(Self.drill(backups: backups, wal: copy), name: "pitr", in: folder)
        #expect(report.status == .failed)
        #expect(ExitCode(report) == .failed)
        #expect(report.failureCode == "wal_gap")
        #expect(report.wal?.firstMissingSegment == switched[1])
        #expect(report.findings.contains { $0.contains("gap") && $0.contains(switched[1]) }, "findings: \(report.findings)")
        #expect(report.phases.contains { $0.name == "wal_fetch" && !$0.ok })
        #expect(report.scratch.removed)
        expectNothingLeft(folder)
    }

    @Test("a corrupted base backup is caught by pg_verifybackup: the drill fails with exit code 3")
    func corrupted() async throws {
        let folder = TempFolder("pitr-bad")
        let backups = folder.sub("backups")
        try await source.createLedger("pitr")
        let dir = (backups as NSString).appendingPathComponent("base")
        try await source.baseBackup(into: dir, ["-Ft"])
        let member = try ArchiveFixture.corruptLargestTarMember((dir as NSString).appendingPathComponent("base.tar"))
        let (_, archive) = try await source.start()
        let before = try await source.archiveListing()
        let report = try await runDrill(Self.drill(backups: backups, wal: archive), name: "pitr", in: folder)
        #expect(report.status == .failed)
        #expect(ExitCode(report) == .failed)
        #expect(ExitCode(report).rawValue == 3)
        #expect(report.failureCode == "backup_corrupt")
        #expect(report.findings.contains { $0.contains("pg_verifybackup") && $0.contains(member) }, "findings: \(report.findings), member \(member)")
        #expect(report.phases.contains { $0.name == "verify" && !$0.ok })
        #expect(!report.phases.contains { $0.name == "wal_replay" })
        try await Self.expectArchiveUnchanged(since: before)
        expectNothingLeft(folder)
    }

    @Test("a target before the backup's end is a configuration error (exit code 2), not a silent early stop")
    func targetBeforeBackup() async throws {
        let folder = TempFolder("pitr-early")
        let backups = folder.sub("backups")
        try await source.createLedger("pitr")
        let early = Date().addingTimeInterval(-3600)
        try await source.baseBackup(into: (backups as NSString).appendingPathComponent("base"), ["-Ft"])
        let (_, archive) = try await source.start()
        let before = try await source.archiveListing()
        let report = try await runDrill(Self.drill(backups: backups, wal: archive, target: RFC3339.format(early)),
                                        name: "pitr", in: folder)
        #expect(report.status == .failed)
        #expect(report.failureCode == "configuration")
        #expect(ExitCode(report) == .usage)
        #expect(report.findings.contains { $0.contains("before the end of the base backup") }, "findings: \(report.findings)")
        try await Self.expectArchiveUnchanged(since: before)
        expectNothingLeft(folder)
    }

    @Test("a target past the archived WAL fails the drill with a clear finding")
    func targetPastArchive() async throws {
        let folder = TempFolder("pitr-late")
        let backups = try await source.freshBaseBackup(in: folder, ["-Ft"])
        try await source.insert(batch: "late", rows: 10, into: "pitr")
        try await source.switchWAL()
        let (_, archive) = try await source.start()
        let before = try await source.archiveListing()
        let future = Date().addingTimeInterval(3600)
        let report = try await runDrill(Self.drill(backups: backups, wal: archive, target: RFC3339.format(future)),
                                        name: "pitr", in: folder)
        #expect(report.status == .failed)
        #expect(ExitCode(report) == .failed)
        #expect(report.findings.contains { $0.contains("past the end of the archived WAL") }, "findings: \(report.findings)")
        #expect(report.phases.contains { $0.name == "wal_replay" && !$0.ok })
        try await Self.expectArchiveUnchanged(since: before)
        expectNothingLeft(folder)
    }

    @Test("the drill command: plan shows the newest segment's age, run exits 0, and a target before the backup exits 2")
    func commandLine() async throws {
        let folder = TempFolder("pitr-cli")
        let backups = try await source.freshBaseBackup(in: folder, ["-Ft", "-z"])
        try await source.insert(batch: "cli", rows: 10, into: "pitr")
        let newest = try await source.switchWAL()
        let (_, archive) = try await source.start()
        let before = try await source.archiveListing()
        let config = try ConfigFixture(in: folder, drills: [
            "pitr": Self.drill(backups: backups, wal: archive, checks: "[\(Self.count("cli", equals: 10))]"),
            "early": Self.drill(backups: backups, wal: archive, target: RFC3339.format(Date().addingTimeInterval(-3600))),
        ])
        let reports = folder.sub("reports")
        let env = ["TMPDIR": folder.sub("scratch")]
        let plan = try await DrillBinary.run(["plan", "pitr", "--config", config.directory, "--archive", reports])
        #expect(plan.exitCode == 0)
        #expect(plan.stdout.contains("wal_archive, newest segment \(newest)"), "\(plan.output)")
        #expect(plan.stdout.contains("within the RPO target of 5m"), "\(plan.output)")
        // Without a terminal, progress lines (every 30 s by default; here every report), the replay's among them.
        let run = try await DrillBinary.run(["run", "pitr", "--config", config.directory, "--archive", reports],
                                            environment: env.merging(["DRILL_PROGRESS_SECONDS": "0"]) { a, _ in a })
        #expect(run.exitCode == 0, "\(run.output)")
        expectReplayProgressLines(run.stderr)
        let early = try await DrillBinary.run(["run", "early", "--config", config.directory, "--archive", reports], environment: env)
        #expect(early.exitCode == 2, "\(early.output)")
        #expect(early.output.contains("before the end of the base backup"), "\(early.output)")
        try await Self.expectArchiveUnchanged(since: before)
        expectNothingLeft(folder)
    }

    @Test("a WAL archive of gzip-compressed segments (archive_command piping through gzip) replays the same")
    func gzipArchive() async throws {
        let folder = TempFolder("pitr-gz")
        let backups = try await source.freshBaseBackup(in: folder, ["-Fp"])
        let tag = "Z\(UUID().uuidString.prefix(6))"
        try await source.insert(batch: tag, rows: 400, into: "pitr")
        try await source.switchWAL()
        let (_, archive) = try await source.start()
        let copy = folder.file("archive-gz")
        try FileManager.default.copyItem(atPath: archive, toPath: copy)
        let names = try FileManager.default.contentsOfDirectory(atPath: copy)
        let gz = try await ChildProcess.run(ProcessSpec(executable: "/bin/gzip", arguments: ["-n", "--"] + names.map { (copy as NSString).appendingPathComponent($0) }))
        #expect(gz.succeeded)
        #expect(try FileManager.default.contentsOfDirectory(atPath: copy).allSatisfy { $0.hasSuffix(".gz") })

        let report = try await runDrill(Self.drill(backups: backups, wal: copy, checks: "[\(Self.count(tag, equals: 400))]"),
                                        name: "pitr", in: folder)
        #expect(report.status == .compliant, "findings: \(report.findings)")
        #expect(report.checks.first?.observed == "400")
        let wal = try #require(report.wal)
        #expect(wal.segmentsFetched >= 1)
        // Bytes fetched are the compressed bytes read from the archive: far less than 16 MiB a segment.
        #expect(wal.bytesFetched < Int64(wal.segmentsFetched) * 16 * 1024 * 1024)
        #expect(wal.backupEndSource == "backup_history_file")
        expectNothingLeft(folder)
    }

    @Test("a server that cannot start while WAL is still being delivered fails the drill with its own error, not as interrupted")
    func serverFailsWhileDelivering() async throws {
        let folder = TempFolder("pitr-nostart")
        let backups = try await source.freshBaseBackup(in: folder, ["-Fp"])
        // Several segments after the backup, and a 1 MiB window: delivery waits for replay that never comes.
        for i in 1...4 {
            try await source.insert(batch: "N\(i)", rows: 10, into: "pitr")
            try await source.switchWAL()
        }
        let (_, archive) = try await source.start()
        // Production's configuration names a library this host does not have (pg_verifybackup does not check
        // postgresql.auto.conf): the scratch server exits at start.
        let auto = (backups as NSString).appendingPathComponent("base/postgresql.auto.conf")
        let handle = try #require(FileHandle(forWritingAtPath: auto))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("shared_preload_libraries = 'drill_no_such_library'\n".utf8))
        try handle.close()
        let json = Self.drill(backups: backups, wal: archive)
            .replacingOccurrences(of: #""wal": { "location": "\#(archive)" }"#, with: #""wal": { "location": "\#(archive)", "window_mib": 1 }"#)
        #expect(json.contains("window_mib"))
        let report = try await runDrill(json, name: "pitr", in: folder)
        #expect(report.status == .failed)
        #expect(report.failureCode == "recovery_failed", "findings: \(report.findings)")
        #expect(report.findings.contains { $0.contains("drill_no_such_library") }, "findings: \(report.findings)")
        #expect(!report.findings.contains { $0.contains("interrupted") }, "findings: \(report.findings)")
        expectNothingLeft(folder)
    }

    @Test("after a failover the archive has a new timeline: the drill follows it to the newest writes")
    func timelineSwitch() async throws {
        let folder = TempFolder("pitr-tli")
        let backups = folder.sub("backups")
        try await source.createLedger("pitr")
        let base = (backups as NSString).appendingPathComponent("base")
        try await source.baseBackup(into: base, ["-Fp"])
        try await source.insert(batch: "tli-1", rows: 20, into: "pitr")
        try await source.switchWAL()
        let (_, archive) = try await source.start()
        let forked = folder.file("archive-forked")
        try await FailoverArchive.make(backup: base, archive: archive, into: forked, scratch: folder.sub("failover"), database: "pitr",
                                       sql: "INSERT INTO ledger (batch) SELECT 'tli-2' FROM generate_series(1, 30)")
        let names = try FileManager.default.contentsOfDirectory(atPath: forked)
        #expect(names.contains("00000002.history"))
        #expect(names.contains { $0.hasPrefix("00000002") && $0.count == 24 })

        let checks = "[\(Self.count("tli-1", equals: 20)), \(Self.count("tli-2", equals: 30))]"
        let report = try await runDrill(Self.drill(backups: backups, wal: forked, checks: checks), name: "pitr", in: folder)
        #expect(report.status == .compliant, "findings: \(report.findings)")
        #expect(report.checks.map(\.observed) == ["20", "30"])
        #expect(report.wal?.firstMissingSegment == nil)
        #expect(report.wal?.newestSegment?.hasPrefix("00000002") == true)
        #expect(report.wal?.timeline == 3, "promoted from timeline 2")
        expectNothingLeft(folder)
    }

    @Test("interrupted during WAL replay: an aborted report, the recovering server stopped, nothing left behind")
    func interruptedDuringReplay() async throws {
        let folder = TempFolder("pitr-int")
        let backups = try await source.freshBaseBackup(in: folder, ["-Ft"])
        try await source.insert(batch: "interrupted", rows: 10, into: "pitr")
        try await source.switchWAL()
        let (_, archive) = try await source.start()
        let before = try await source.archiveListing()
        let config = try ConfigFixture(in: folder, drills: ["pitr": Self.drill(backups: backups, wal: archive)]).load()
        let deps = await LiveDependencies.make(scratchRoot: folder.sub("scratch"), drillVersion: "test",
                                               logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        let drill = try #require(config.drills.first)
        let interrupter = CancelOnPhase(.walReplay)
        let runner = DrillRunner(deps: deps, clock: ContinuousClock(), observer: interrupter)
        let task = Task { await runner.run(drill, tier: config.tier(of: drill)) }
        interrupter.task = task
        let report = await task.value
        #expect(interrupter.fired)
        #expect(report.status == .aborted)
        #expect(ExitCode(report) == .interrupted)
        #expect(report.phases.contains { $0.name == "wal_replay" && !$0.ok })
        #expect(report.scratch.removed)
        try await Self.expectArchiveUnchanged(since: before)
        expectNothingLeft(folder)
    }
}
