import DrillCore
import Foundation
import Testing

/// The golden JSON report of a pgBackRest drill (the exact bytes the archive stores) and its Markdown evidence. Set
/// UPDATE_GOLDEN=1 to rewrite the golden file after an intended change.
@Suite("Reports: pgbackrest evidence")
struct PgBackRestReportTests {
    static func report() -> DrillReport {
        var r = ReportGoldenTests.basebackup()
        r.method = .pgbackrest
        r.wal = nil
        r.backup = .init(uri: "pgbackrest stanza prod, repo 1", name: "20261128-063000F_20261128-070000I", format: "pgbackrest incr",
                         sizeBytes: 30_726_358, createdAt: r.startedAt.addingTimeInterval(-1800),
                         modifiedAt: r.startedAt.addingTimeInterval(-1800))
        r.restore = .init(jobs: 1, profile: .durable, mode: "file", tool: "pgBackRest 2.45 restore, postgres (archive recovery)",
                          toolVersion: "15.18", toolSeconds: 2.5)
        r.phases = ["fetch", "verify", "provision", "restore", "wal_fetch", "wal_replay", "checks"].enumerated().map {
            .init(name: $0.element, startOffsetSeconds: Double($0.offset), seconds: 1, ok: true)
        }
        var p = PgBackRestEvidence(stanza: "prod", repo: 1, config: nil, target: "latest")
        p.toolVersion = "pgBackRest 2.45"
        p.label = "20261128-063000F_20261128-070000I"
        p.type = "incr"
        p.references = ["20261128-063000F"]
        p.backupStartedAt = r.startedAt.addingTimeInterval(-1805)
        p.backupStoppedAt = r.startedAt.addingTimeInterval(-1800)
        p.walStart = "000000010000000000000005"
        p.walStop = "000000010000000000000005"
        p.lsnStart = "0/5000028"
        p.lsnStop = "0/5000100"
        p.backupVersion = "2.45"
        p.archiveID = "15-1"
        p.postgresVersion = "15"
        p.newestSegment = "000000010000000000000008"
        p.newestSegmentAt = r.startedAt.addingTimeInterval(-420)
        p.verify = .init(status: "ok", backupStatus: "valid", backupsChecked: 2, filesChecked: 2536, walChecked: 8, damaged: [],
                         summary: "ok: 2 backups (2536 files), 8 WAL files checked")
        p.segmentsFetched = 4
        p.bytesFetched = 67_108_864
        p.replayedTo = "0/8000060"
        p.timeline = 2
        r.pgbackrest = p
        return r
    }

    @Test func jsonMatchesGoldenAndDecodesBack() throws {
        let report = Self.report()
        let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/report-pgbackrest.json")
        let data = try report.jsonData()
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" { try data.write(to: golden) }
        let stored = try Data(contentsOf: golden)
        #expect(String(decoding: data, as: UTF8.self) == String(decoding: stored, as: UTF8.self))
        let decoded = try DrillReport.decoder().decode(DrillReport.self, from: stored)
        #expect(decoded == report, "every field survives the round trip (archive_id included)")
        let text = String(decoding: stored, as: UTF8.self)
        for key in ["\"method\" : \"pgbackrest\"", "\"pgbackrest\" : {", "\"archive_id\" : \"15-1\"", "\"backup_status\" : \"valid\""] {
            #expect(text.contains(key), "missing \(key)")
        }
    }

    @Test func markdownShowsTheEvidence() {
        let md = MarkdownReport.render(Self.report())
        for row in ["| pgBackRest | stanza prod, repo 1, --no-config (pgBackRest 2.45) |",
                    "| Backup set | 20261128-063000F_20261128-070000I (incr), uses 20261128-063000F |",
                    "| pgbackrest verify | ok: 2 backups (2536 files), 8 WAL files checked |",
                    "| WAL fetched (archive-get) | 4 segments, 67108864 bytes |",
                    "| Replayed to | 0/8000060, now on timeline 2 |"] {
            #expect(md.contains(row), "missing \(row)")
        }
    }
}
