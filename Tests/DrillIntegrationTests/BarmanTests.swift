import DrillCore
import DrillLive
import DrillTesting
import Foundation
import Testing

/// barman drills through the real `drill` binary, against a Barman server on this host (`barman receive-wal` +
/// `barman backup` of a production cluster). Serialized: the tests share the server and its catalogue.
@Suite("barman server drills", .serialized, .timeLimit(.minutes(5)))
struct BarmanTests {
    static func drill(_ h: BarmanServerSource.Handle, target: String? = nil, checks: String, wal: String? = nil) -> String {
        """
        { "version": 1, "tier": "critical",
          "backup": { "kind": "barman", "server": "\(BarmanServerSource.server)", "config": "\(h.config)" },
          \(target.map { #""recovery": { "target": "\#($0)" },"# } ?? "")
          \(wal.map { #""wal": \#($0),"# } ?? "")
          "database": "\(BarmanServerSource.database)",
          "restore": { "profile": "fast" },
          "checks": \(checks) }
        """
    }

    @Test("a drill restores a barman backup and replays what receive-wal archived; barman_home is left as it was")
    func latest() async throws {
        let source = BarmanServerSource.shared
        let h = try await source.start()
        let tag = "S\(UUID().uuidString.prefix(6))"
        let lastCommit = try await h.production.insert(batch: tag, rows: 250, into: BarmanServerSource.database)
        try await source.archiveWAL()
        let before = try await source.homeListing()

        let folder = TempFolder("bsrv")
        let checks = "[\(BarmanCloudTests.count("before-backup", equals: 200)), \(BarmanCloudTests.count(tag, equals: 250))]"
        // A WAL window smaller than a segment: each segment is copied after replay took the one before.
        let config = try ConfigFixture(in: folder, drills: ["ledger": Self.drill(h, checks: checks, wal: #"{ "window_mib": 1 }"#)])
        let archive = folder.sub("archive")
        let run = try await DrillBinary.run(["run", "ledger", "--config", config.directory, "--archive", archive],
                                            environment: ["DRILL_SCRATCH_DIR": folder.sub("scratch"), "DRILL_PROGRESS_SECONDS": "0"])
        #expect(run.exitCode == 0, "\(run.output)")
        expectReplayProgressLines(run.stderr)

        let report = try #require(try await ReportArchive(storage: LocalArchiveStorage(root: archive)).reports().reports.first?.report)
        #expect(report.status == .compliant, "findings: \(report.findings)")
        #expect(report.method == .barman)
        #expect(report.checks.map(\.observed) == ["200", "250"])
        #expect(report.phases.map(\.name) == ["fetch", "verify", "provision", "restore", "wal_fetch", "wal_replay", "checks"])
        expectWALFetchOverlapsReplay(report)
        printPhases("barman latest (window 1 MiB)", report)
        #expect(report.postgres?.backupVersion?.major == 15 && report.postgres?.backupVersionSource == "barman show-backup"
                    && report.postgres?.version.major == 15, "\(String(describing: report.postgres))")
        #expect(report.measured.recoveryPointSource == "wal_replay")
        let rp = try #require(report.measured.recoveryPoint)
        #expect(abs(rp.timeIntervalSince(lastCommit)) < 1, "recovery point \(rp) vs last commit \(lastCommit)")
        #expect(report.backup.name == h.firstBackup)

        let b = try #require(report.barman)
        #expect(b.kind == .barman)
        #expect(b.backupId == h.firstBackup)
        #expect(b.location == h.config)
        #expect(b.timeSource == "show_backup")
        #expect(b.beginWal.map(WALSegment.looksLikeName) == true)
        #expect(b.endTime.map { $0 < lastCommit } == true)
        #expect(b.tool?.hasPrefix("barman 3.") == true, "\(b.tool ?? "nil")")
        #expect(b.checkBackup?.ok == true, "\(String(describing: b.checkBackup))")
        #expect(b.verifyBackup?.ok == true, "\(String(describing: b.verifyBackup))")
        let wal = try #require(report.wal)
        #expect(wal.verifiedWith == "barman verify-backup (pg_verifybackup)")
        #expect(wal.segmentsFetched >= 2)
        #expect(wal.firstMissingSegment == nil)
        #expect(wal.timeline.map { $0 >= 2 } == true)
        #expect(report.restore.settings?["archive_mode"] == "off")

        // Barman's catalogue is as it was (its lock files aside), and nothing of the drill remains.
        #expect(try await source.homeListing() == before)
        expectNothingLeft(folder)

        // `drill plan` shows the same backup and the age of the newest WAL Barman archived after it.
        let plan = try await DrillBinary.run(["plan", "ledger", "--config", config.directory, "--archive", archive, "--json"])
        #expect(plan.exitCode == 0, "\(plan.output)")
        #expect(plan.stdout.contains("\"backup\" : \"barman://\(BarmanServerSource.server)/\(h.firstBackup)\""), "\(plan.stdout)")
        #expect(plan.stdout.contains("barman WAL archive, newest segment"), "\(plan.stdout)")
        #expect(plan.stdout.contains("15.") && plan.stdout.contains("barman show-backup"), "the backup's version: \(plan.stdout)")
    }

    @Test("point-in-time recovery to a timestamp between two batches: the first is present, the second absent")
    func pointInTime() async throws {
        let source = BarmanServerSource.shared
        let h = try await source.start()
        let tag = "T\(UUID().uuidString.prefix(6))"
        let firstCommit = try await h.production.insert(batch: tag + "-first", rows: 120, into: BarmanServerSource.database)
        try await Task.sleep(for: .milliseconds(1200))
        let target = firstCommit.addingTimeInterval(0.6)
        try await Task.sleep(for: .milliseconds(600))
        try await h.production.insert(batch: tag + "-second", rows: 80, into: BarmanServerSource.database)
        try await source.archiveWAL()
        let before = try await source.homeListing()

        let folder = TempFolder("bsrv-t")
        let checks = "[\(BarmanCloudTests.count(tag + "-first", equals: 120)), \(BarmanCloudTests.count(tag + "-second", equals: 0))]"
        let targetText = RFC3339.format(target, fractional: true)
        let config = try ConfigFixture(in: folder, drills: ["ledger": Self.drill(h, target: targetText, checks: checks)])
        let archive = folder.sub("archive")
        let run = try await DrillBinary.run(["run", "ledger", "--config", config.directory, "--archive", archive],
                                            environment: ["DRILL_SCRATCH_DIR": folder.sub("scratch")])
        #expect(run.exitCode == 0, "\(run.output)")
        let report = try #require(try await ReportArchive(storage: LocalArchiveStorage(root: archive)).reports().reports.first?.report)
        #expect(report.status == .compliant, "findings: \(report.findings)")
        #expect(report.checks.map(\.observed) == ["120", "0"])
        let wal = try #require(report.wal)
        #expect(wal.target == targetText)
        #expect(wal.targetTime.map { abs($0.timeIntervalSince(target)) < 0.001 } == true)
        let rp = try #require(report.measured.recoveryPoint)
        #expect(abs(rp.timeIntervalSince(firstCommit)) < 0.01, "recovery point \(rp) vs first commit \(firstCommit)")
        #expect(try await source.homeListing() == before)
        expectNothingLeft(folder)
    }

    @Test("a WAL file removed from Barman's catalogue folder mid-archive: the drill fails naming it, and replay stopped before it")
    func walRemovedMidArchive() async throws {
        let source = BarmanServerSource.shared
        let h = try await source.start()
        let tag = "G\(UUID().uuidString.prefix(6))"
        var segments: [String] = []
        for i in 0..<3 {
            try await h.production.insert(batch: "\(tag)-\(i)", rows: 10, into: BarmanServerSource.database)
            segments.append(try await source.archiveWAL())
        }
        let missing = segments[1]
        // Barman's catalogue (xlog.db) still lists it; its file is gone. Put back afterwards: the tests share Barman.
        let path = (h.barmanHome as NSString).appendingPathComponent("\(BarmanServerSource.server)/wals/\(missing.prefix(16))/\(missing)")
        let aside = path + ".drill-test-aside"
        try FileManager.default.moveItem(atPath: path, toPath: aside)
        defer { try? FileManager.default.moveItem(atPath: aside, toPath: path) }

        let folder = TempFolder("bsrv-gap")
        let config = try ConfigFixture(in: folder, drills: ["ledger": Self.drill(h, checks: "[]", wal: #"{ "connections": 2, "window_mib": 1 }"#)])
        let archive = folder.sub("archive")
        let run = try await DrillBinary.run(["run", "ledger", "--config", config.directory, "--archive", archive],
                                            environment: ["DRILL_SCRATCH_DIR": folder.sub("scratch")])
        #expect(run.exitCode == 3, "\(run.output)")
        let report = try #require(try await ReportArchive(storage: LocalArchiveStorage(root: archive)).reports().reports.first?.report)
        expectGapDuringReplay(report, missing: missing, firstMissing: report.wal?.firstMissingSegment, replayedTo: report.wal?.replayedTo)
        expectNothingLeft(folder)
    }
}
