import DrillCore
import DrillLive
import DrillTesting
import Foundation
import Testing

/// barman-cloud drills through the real `drill` binary, against a production cluster that archives with
/// `barman-cloud-wal-archive` into moto's S3 (signatures checked) and was backed up with `barman-cloud-backup`.
/// Serialized: the tests share the cluster and reason about what its archive holds.
@Suite("barman-cloud drills", .serialized, .timeLimit(.minutes(5)))
struct BarmanCloudTests {
    static func drill(_ h: BarmanCloudSource.Handle, target: String? = nil, checks: String, endpoint: String? = nil,
                      wal: String? = nil) -> String {
        """
        { "version": 1, "tier": "critical",
          "backup": { "kind": "barman-cloud", "location": "\(h.location)", "server": "\(BarmanCloudSource.server)",
                      "endpoint": "\(endpoint ?? h.moto.endpoint)", "region": "us-east-1" },
          \(target.map { #""recovery": { "target": "\#($0)" },"# } ?? "")
          \(wal.map { #""wal": \#($0),"# } ?? "")
          "database": "\(BarmanCloudSource.database)",
          "restore": { "profile": "fast" },
          "checks": \(checks) }
        """
    }

    static func count(_ batch: String, equals n: Int) -> String {
        #"{ "name": "batch \#(batch)", "sql": "SELECT count(*) FROM ledger WHERE batch = '\#(batch)'", "expect": { "equals": \#(n) } }"#
    }

    /// The restored server's environment holds no AWS variable: its postmaster's `/proc/<pid>/environ` (a backend's
    /// own is overwritten by its process title).
    static let noCredentialsInServer = #"{ "name": "no AWS credentials in the server", "sql": "SELECT position(convert_to('AWS_', 'UTF8') in pg_read_binary_file('/proc/' || split_part(pg_read_file('postmaster.pid'), E'\\n', 1) || '/environ'))", "expect": { "equals": 0 } }"#

    /// Runs `drill <arguments>` with moto's credentials (or `secret` instead of the right one) in the environment.
    static func drillBinary(_ arguments: [String], _ h: BarmanCloudSource.Handle, folder: TempFolder,
                            secret: String? = nil, progressLines: Bool = false) async throws -> DrillBinary.Run {
        var env = h.moto.environment
        if let secret { env["AWS_SECRET_ACCESS_KEY"] = secret }
        env["DRILL_SCRATCH_DIR"] = folder.sub("scratch")
        if progressLines { env["DRILL_PROGRESS_SECONDS"] = "0" }
        return try await DrillBinary.run(arguments, environment: env, unset: ["PG*", "DRILL_*", "AWS_*"])
    }

    @Test("a drill restores the newest barman-cloud backup and replays the archived WAL to the last commit")
    func latest() async throws {
        let source = BarmanCloudSource.shared
        let h = try await source.start()
        let tag = "C\(UUID().uuidString.prefix(6))"
        let lastCommit = try await h.production.insert(batch: tag, rows: 300, into: BarmanCloudSource.database)
        try await source.archiveWAL()
        let before = try await source.bucketListing()

        let folder = TempFolder("bcloud")
        let checks = "[\(Self.count("before-backup", equals: 200)), \(Self.count(tag, equals: 300)), \(Self.noCredentialsInServer)]"
        // A WAL window smaller than a segment: each segment is fetched after replay took the one before.
        let config = try ConfigFixture(in: folder, drills: ["ledger": Self.drill(h, checks: checks, wal: #"{ "window_mib": 1 }"#)])
        let archive = folder.sub("archive")
        let run = try await Self.drillBinary(["run", "ledger", "--config", config.directory, "--archive", archive], h, folder: folder,
                                             progressLines: true)
        #expect(run.exitCode == 0, "\(run.output)")
        #expect(!run.output.contains(h.moto.secretAccessKey))
        expectReplayProgressLines(run.stderr)

        let report = try #require(try await ReportArchive(storage: LocalArchiveStorage(root: archive)).reports().reports.first?.report)
        #expect(report.status == .compliant, "findings: \(report.findings)")
        #expect(report.method == .barmanCloud)
        // The archived file holds the barman block and re-encodes to its own bytes.
        let file = try #require(try FileManager.default.subpathsOfDirectory(atPath: archive).first { $0.hasSuffix(".json") && !$0.hasPrefix("chain") })
        let stored = try Data(contentsOf: URL(fileURLWithPath: (archive as NSString).appendingPathComponent(file)))
        #expect(String(decoding: try report.jsonData(), as: UTF8.self) == String(decoding: stored, as: UTF8.self))
        #expect((try JSONSerialization.jsonObject(with: stored) as? [String: Any])?["barman"] is [String: Any])
        #expect(report.checks.map(\.observed) == ["200", "300", "0"])
        #expect(report.phases.map(\.name) == ["fetch", "provision", "restore", "wal_fetch", "wal_replay", "checks"])
        expectWALFetchOverlapsReplay(report)
        printPhases("barman-cloud latest (window 1 MiB)", report)
        #expect(report.postgres?.backupVersion?.major == 15 && report.postgres?.version.major == 15,
                "the backup's major, from its backup.info: \(String(describing: report.postgres))")
        #expect(report.measured.recoveryPointSource == "wal_replay")
        let rp = try #require(report.measured.recoveryPoint)
        #expect(abs(rp.timeIntervalSince(lastCommit)) < 1, "recovery point \(rp) vs last commit \(lastCommit)")
        #expect(report.backup.uri == "\(h.location)/\(BarmanCloudSource.server)/base/\(h.firstBackup)/")
        #expect(report.backup.format == "barman-cloud")

        let b = try #require(report.barman)
        #expect(b.kind == .barmanCloud)
        #expect(b.backupId == h.firstBackup)
        #expect(b.status == "DONE")
        #expect(b.timeSource == "backup_info")
        #expect(b.beginWal.map(WALSegment.looksLikeName) == true)
        #expect(b.endWal.map(WALSegment.looksLikeName) == true)
        let (begin, end) = (try #require(b.beginTime), try #require(b.endTime))
        #expect(begin <= end && end < lastCommit)
        #expect(b.tool?.contains("barman-cloud-backup-list 3.") == true, "\(b.tool ?? "nil")")
        #expect(b.walFetchedWithTool == 0)
        let wal = try #require(report.wal)
        #expect(wal.location == "\(h.location)/\(BarmanCloudSource.server)/wals/")
        #expect(wal.startSegment == b.beginWal)
        #expect(wal.segmentsFetched >= 2)
        #expect(wal.firstMissingSegment == nil)
        #expect(wal.timeline.map { $0 >= 2 } == true, "a promoted restore is on a new timeline")
        #expect(report.restore.settings?["archive_mode"] == "off")

        // Nothing was written into the bucket, and nothing of the drill remains.
        #expect(try await source.bucketListing() == before)
        expectNothingLeft(folder)

        // `drill plan` shows the same backup and the newest archived WAL's age.
        let plan = try await Self.drillBinary(["plan", "ledger", "--config", config.directory, "--archive", archive, "--json"], h,
                                              folder: folder)
        #expect(plan.exitCode == 0, "\(plan.output)")
        #expect(plan.stdout.contains("\"backup\" : \"\(h.location)/\(BarmanCloudSource.server)/base/\(h.firstBackup)/\""), "\(plan.stdout)")
        #expect(plan.stdout.contains("barman-cloud WAL archive, newest segment"), "\(plan.stdout)")
        #expect(plan.stdout.contains("barman-cloud backup.info"), "the backup's version: \(plan.stdout)")
    }

    @Test("a wrong secret fails the drill clearly (exit 3) and shows nowhere")
    func wrongSecret() async throws {
        let h = try await BarmanCloudSource.shared.start()
        let folder = TempFolder("bcloud-x")
        let config = try ConfigFixture(in: folder, drills: ["ledger": Self.drill(h, checks: "[]")])
        let archive = folder.sub("archive")
        let secret = "Wr0ng/Secret+\(UUID().uuidString)"
        let run = try await Self.drillBinary(["run", "ledger", "--config", config.directory, "--archive", archive], h,
                                             folder: folder, secret: secret)
        #expect(run.exitCode == 3, "\(run.output)")
        #expect(run.output.contains("barman-cloud-backup-list was denied access to \(h.location) (server \(BarmanCloudSource.server))"),
                "\(run.output)")
        #expect(run.output.contains("403"))
        #expect(!run.output.contains(secret))
        let report = try #require(try await ReportArchive(storage: LocalArchiveStorage(root: archive)).reports().reports.first?.report)
        #expect(report.status == .failed)
        #expect(report.failureCode == "store_denied")
        for file in try FileManager.default.subpathsOfDirectory(atPath: archive) {
            let text = (try? String(contentsOfFile: (archive as NSString).appendingPathComponent(file), encoding: .utf8)) ?? ""
            #expect(!text.contains(secret), "\(file) shows the secret")
        }
        expectNothingLeft(folder)
    }

    @Test("a random target is chosen between the backup's end and the last archived commit, recorded, and reached")
    func randomTarget() async throws {
        let source = BarmanCloudSource.shared
        let h = try await source.start()
        let tag = "R\(UUID().uuidString.prefix(6))"
        let last = try await h.production.insert(batch: tag, rows: 50, into: BarmanCloudSource.database)
        try await source.archiveWAL()
        let before = try await source.bucketListing()

        let folder = TempFolder("bcloud-r")
        let config = try ConfigFixture(in: folder, drills: ["ledger": Self.drill(h, target: "random", checks: "[]")])
        let archive = folder.sub("archive")
        let run = try await Self.drillBinary(["run", "ledger", "--config", config.directory, "--archive", archive], h, folder: folder)
        #expect(run.exitCode == 0, "\(run.output)")
        let report = try #require(try await ReportArchive(storage: LocalArchiveStorage(root: archive)).reports().reports.first?.report)
        #expect(report.status == .compliant, "findings: \(report.findings)")
        let wal = try #require(report.wal)
        #expect(wal.target == "random")
        let chosen = try #require(wal.targetTime)
        let end = try #require(report.barman?.endTime)
        #expect(wal.backupEndAt == end)
        #expect(chosen >= end.addingTimeInterval(-0.001) && chosen <= last.addingTimeInterval(0.001), "\(end) ≤ \(chosen) ≤ \(last)")
        let rp = try #require(report.measured.recoveryPoint)
        #expect(rp <= chosen.addingTimeInterval(0.001), "recovery point \(rp) after the target \(chosen)")
        #expect(try await source.bucketListing() == before)
        expectNothingLeft(folder)
    }

    @Test("a WAL segment gone from the bucket after drill listed it (404): the drill fails naming it, and replay stopped before it")
    func walRemovedMidArchive() async throws {
        let source = BarmanCloudSource.shared
        let h = try await source.start()
        let tag = "G\(UUID().uuidString.prefix(6))"
        var segments: [String] = []
        for i in 0..<3 {
            try await h.production.insert(batch: "\(tag)-\(i)", rows: 10, into: BarmanCloudSource.database)
            segments.append(try await source.archiveWAL())
        }
        let missing = segments[1]
        let proxy = try await FaultProxy(upstreamPort: URL(string: h.moto.endpoint)!.port!, match: missing, faults: ["404", "404", "404"])
        defer { proxy.stop() }
        let before = try await source.bucketListing()

        let folder = TempFolder("bcloud-gap")
        let json = Self.drill(h, checks: "[]", endpoint: proxy.endpoint, wal: #"{ "connections": 2, "window_mib": 1 }"#)
        let config = try ConfigFixture(in: folder, drills: ["ledger": json])
        let archive = folder.sub("archive")
        let run = try await Self.drillBinary(["run", "ledger", "--config", config.directory, "--archive", archive], h, folder: folder)
        #expect(run.exitCode == 3, "\(run.output)")
        let report = try #require(try await ReportArchive(storage: LocalArchiveStorage(root: archive)).reports().reports.first?.report)
        expectGapDuringReplay(report, missing: missing, firstMissing: report.wal?.firstMissingSegment, replayedTo: report.wal?.replayedTo)
        #expect(try await proxy.log().contains { $0.path.contains(missing) && $0.fault == "404" })
        #expect(try await source.bucketListing() == before)
        expectNothingLeft(folder)
    }
}
