import DrillCore
import DrillTesting
import Foundation
import Testing

@Suite("The barman evidence block")
struct BarmanEvidenceTests {
    static func sample() -> DrillReport {
        var r = ReportFixtures.report(drill: "ledger", tier: "critical")
        r.method = .barman
        r.backup.uri = "barman://prod/20261201T210822"
        r.backup.name = "20261201T210822"
        r.backup.format = "barman"
        r.backup.sidecar = nil
        r.backup.sourceDatabase = nil
        r.backup.sourceServerVersion = nil
        r.backup.pgDumpVersion = nil
        r.measured.recoveryPointSource = "wal_replay"
        var b = BarmanEvidence(kind: .barman, server: "prod", location: "/etc/barman/prod.conf", backupsListed: 3, backupsDone: 2)
        b.record(BarmanBackup(id: "20261201T210822", status: "DONE", beginTime: ReportFixtures.date("2026-11-28T07:00:00Z"),
                              endTime: ReportFixtures.date("2026-11-28T07:00:10Z"), timeSource: "show_backup",
                              beginWAL: "00000001000000000000000C", endWAL: "00000001000000000000000C", beginLSN: "0/C000028",
                              endLSN: "0/D000000", timeline: 1, systemID: "7714444198547390699"))
        b.tool = "barman 3.4.0"
        b.checkBackup = .init(tool: "barman check-backup", ok: true, detail: "the WAL from the backup's start to its end is archived")
        b.verifyBackup = .init(tool: "barman verify-backup", ok: true, detail: "backup successfully verified")
        r.barman = b
        var wal = DrillReport.WAL(location: "barman recover (server prod)", target: "latest", segmentsFetched: 2, bytesFetched: 32 << 20)
        wal.startSegment = "00000001000000000000000C"
        wal.verifiedWith = "barman verify-backup (pg_verifybackup)"
        r.wal = wal
        return r
    }

    static func cloudSample() -> DrillReport {
        var r = sample()
        r.method = .barmanCloud
        r.backup.uri = "s3://acme-pg/barman/prod/base/20261201T210451/"
        r.backup.name = "20261201T210451"
        r.backup.format = "barman-cloud"
        r.phases = ["fetch", "provision", "restore", "wal_fetch", "wal_replay", "checks"].enumerated().map {
            .init(name: $0.element, startOffsetSeconds: Double($0.offset), seconds: 1, ok: true)
        }
        var b = BarmanEvidence(kind: .barmanCloud, server: "prod", location: "s3://acme-pg/barman", backupsListed: 1, backupsDone: 1)
        b.record(BarmanBackup(id: "20261201T210451", status: "DONE", beginTime: ReportFixtures.date("2026-11-28T07:00:00Z"),
                              endTime: ReportFixtures.date("2026-11-28T07:00:04Z"), timeSource: "backup_info",
                              beginWAL: "000000010000000000000007", endWAL: "000000010000000000000007", timeline: 1))
        b.tool = "barman-cloud-backup-list 3.4.0"
        b.walFetchedWithTool = 0
        r.barman = b
        r.wal?.location = "s3://acme-pg/barman/prod/wals/"
        r.wal?.verifiedWith = nil
        return r
    }

    /// Golden files: the JSON an auditor's tools read. Set UPDATE_GOLDEN=1 to rewrite them after an intended change.
    @Test(arguments: [("barman", sample()), ("barman-cloud", cloudSample())])
    func jsonMatchesGoldenAndRoundTrips(name: String, report: DrillReport) throws {
        let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/report-\(name).json")
        let data = try report.jsonData()
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" { try data.write(to: golden) }
        let text = String(decoding: data, as: UTF8.self)
        #expect(text == (try String(contentsOf: golden, encoding: .utf8)))
        for key in ["\"barman\" : {", "\"backup_id\" : \"\(report.backup.name!)\"", "\"begin_wal\"", "\"time_source\"",
                    "\"kind\" : \"\(name)\"", "\"method\" : \"\(name)\""] {
            #expect(text.contains(key), "missing \(key)")
        }
        let decoded = try DrillReport.decoder().decode(DrillReport.self, from: try Data(contentsOf: golden))
        #expect(decoded == report)
    }

    @Test func serverChecksAreWritten() throws {
        let text = String(decoding: try Self.sample().jsonData(), as: UTF8.self)
        for key in ["\"end_lsn\"", "\"system_id\"", "\"check_backup\" : {", "\"verify_backup\"", "\"backups_done\" : 2"] {
            #expect(text.contains(key), "missing \(key)")
        }
        #expect(try DrillReport.decoder().decode(DrillReport.self, from: try Self.sample().jsonData()).barman?.checkBackup?.ok == true)
    }

    @Test func markdownShowsTheBackupAndBarmansChecks() {
        let md = MarkdownReport.render(Self.sample())
        #expect(md.contains("| Barman server | prod (/etc/barman/prod.conf) |"), "\(md)")
        #expect(md.contains("| Barman backup | 20261201T210822, DONE |"))
        #expect(md.contains("| Backup WAL | 00000001000000000000000C to 00000001000000000000000C |"))
        #expect(md.contains("| barman check-backup | ok: the WAL from the backup's start to its end is archived |"))
        #expect(md.contains("| barman verify-backup | ok: backup successfully verified |"))
        var failed = Self.sample()
        failed.barman?.verifyBackup = .init(tool: "barman verify-backup", ok: false, detail: "size mismatch")
        #expect(MarkdownReport.render(failed).contains("| barman verify-backup | **failed**: size mismatch |"))
    }
}
