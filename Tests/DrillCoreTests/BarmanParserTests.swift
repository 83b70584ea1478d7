import DrillCore
import Foundation
import Testing

/// The tools' output as Barman 3.4 and barman-cli-cloud 3.4 printed it on this machine (trimmed).
enum BarmanSamples {
    static let listBackups = #"""
        {"pg": [{"backup_id": "20261201T211215", "end_time": "Tue Dec  1 21:12:21 2026", "end_time_timestamp": "1796159541", "retention_status": "-", "size": "45.6 MiB", "size_bytes": 47816856, "status": "DONE", "tablespaces": [], "wal_size": "0 B", "wal_size_bytes": 0}, {"backup_id": "20261201T210822", "end_time": "Tue Dec  1 21:08:32 2026", "end_time_timestamp": "1796159312", "retention_status": "-", "size": "45.6 MiB", "size_bytes": 47784081, "status": "DONE", "tablespaces": [], "wal_size": "64.0 MiB", "wal_size_bytes": 67108864}]}
        """#

    static let showBackup = #"""
        {"pg": {"backup_id": "20261201T210822", "base_backup_information": {"analysis_time": "less than one second", "analysis_time_seconds": 0, "begin_lsn": "0/C000028", "begin_offset": 40, "begin_time": "2026-12-01 21:08:22.616781+00:00", "begin_time_timestamp": "1796159302", "begin_wal": "00000001000000000000000C", "copy_time": "10 seconds", "copy_time_seconds": 10.045435, "disk_usage": "29.6 MiB", "disk_usage_bytes": 31006865, "end_lsn": "0/D000000", "end_offset": 0, "end_time": "2026-12-01 21:08:32.683486+00:00", "end_time_timestamp": "1796159312", "end_wal": "00000001000000000000000C", "number_of_workers": 1, "timeline": 1}, "catalog_information": {"next_backup": "- (this is the latest base backup)", "previous_backup": "- (this is the oldest base backup)", "retention_policy": "not enforced"}, "pgdata_directory": "/tmp/bx/prod/data", "postgresql_version": 150018, "status": "DONE", "tablespaces": [], "wal_information": {"compression_ratio": 0, "disk_usage": "0 B", "disk_usage_bytes": 0, "last_available": "00000001000000000000000C", "no_of_files": 0, "timelines": [], "wal_rate": 0, "wal_rate_per_second": 0}}}
        """#

    static let cloudList = #"""
        {"backups_list": [{"backup_label": "'START WAL LOCATION: 0/3000028 (file 000000010000000000000003)\\nCHECKPOINT LOCATION: 0/3000060\\n'", "begin_offset": 40, "begin_time": "Tue Dec  1 21:04:06 2026", "begin_wal": "000000010000000000000003", "begin_xlog": "0/3000028", "compression": null, "end_offset": 312, "end_time": "Tue Dec  1 21:04:12 2026", "end_wal": "000000010000000000000003", "end_xlog": "0/3000138", "error": null, "pgdata": "/tmp/bx/prod/data", "server_name": "cloud", "size": null, "status": "DONE", "systemid": "7714444198547390699", "tablespaces": null, "timeline": 1, "version": 150018, "xlog_segment_size": 16777216, "backup_id": "20261201T210405"}, {"begin_offset": 40, "begin_time": "Tue Dec  1 21:04:51 2026", "begin_wal": "000000010000000000000007", "begin_xlog": "0/7000028", "end_offset": 256, "end_time": "Tue Dec  1 21:04:55 2026", "end_wal": "000000010000000000000007", "end_xlog": "0/7000100", "error": null, "status": "DONE", "systemid": "7714444198547390699", "timeline": 1, "version": 150018, "xlog_segment_size": 16777216, "backup_id": "20261201T210451"}]}
        """#

    static let backupInfo = """
        backup_label='START WAL LOCATION: 0/7000028 (file 000000010000000000000007)\\nCHECKPOINT LOCATION: 0/7000060\\n'
        begin_offset=40
        begin_time=2026-12-01 21:04:51.791845+00:00
        begin_wal=000000010000000000000007
        begin_xlog=0/7000028
        compression=None
        copy_stats={'total_time': 11.262601, 'number_of_workers': 2}
        end_offset=256
        end_time=2026-12-01 23:04:55.044710+02:00
        end_wal=000000010000000000000007
        end_xlog=0/7000100
        error=None
        server_name=cloud
        size=None
        status=DONE
        systemid=7714444198547390699
        timeline=1
        version=150018
        xlog_segment_size=16777216
        """
}

@Suite("Barman and barman-cloud output parsers")
struct BarmanParserTests {
    @Test func listBackups() throws {
        let b = try BarmanJSON.listBackups(BarmanSamples.listBackups, server: "pg")
        #expect(b.map(\.id) == ["20261201T211215", "20261201T210822"])
        #expect(b.allSatisfy { $0.isDone })
        #expect(b[1].endTime == Date(timeIntervalSince1970: 1_796_159_312))
        #expect(b[1].timeSource == "catalogue_epoch")
        #expect(b[1].sizeBytes == 47_784_081)
        #expect(throws: BarmanJSON.ParseError.self) { try BarmanJSON.listBackups(BarmanSamples.listBackups, server: "other") }
        #expect(throws: BarmanJSON.ParseError.self) { try BarmanJSON.listBackups(#"{"_ERROR": ["Unknown server 'x'"]}"#, server: "x") }
        #expect(throws: BarmanJSON.ParseError.self) { try BarmanJSON.listBackups("ERROR: please run barman as 'barman' user", server: "x") }
    }

    @Test func showBackupReadsTheZonedTimes() throws {
        let b = try BarmanJSON.showBackup(BarmanSamples.showBackup, server: "pg")
        #expect(b.id == "20261201T210822")
        #expect(b.status == "DONE")
        #expect(b.beginWAL == "00000001000000000000000C")
        #expect(b.endWAL == "00000001000000000000000C")
        #expect(b.beginLSN == "0/C000028")
        #expect(b.endLSN == "0/D000000")
        #expect(b.timeline == 1)
        #expect(b.postgresVersion == 150018)
        #expect(b.timeSource == "show_backup")
        let end = try #require(b.endTime)
        #expect(abs(end.timeIntervalSince1970 - 1_796_159_312.683486) < 0.000_01)
        #expect(b.beginTime.map { abs($0.timeIntervalSince1970 - 1_796_159_302.616781) < 0.000_01 } == true)
    }

    @Test func messagesOfCheckAndVerify() {
        #expect(BarmanJSON.messages("{}") == BarmanJSON.Messages())
        let m = BarmanJSON.messages(#"{"_ERROR": ["pg_verifybackup not found"], "_INFO": ["Verifying backup '1' on server ['pg']", "Calling pg_verifybackup"]}"#)
        #expect(m.errors == ["pg_verifybackup not found"])
        #expect(m.infos.count == 2)
        #expect(BarmanJSON.messages("not json") == BarmanJSON.Messages())
    }

    @Test func barmanUserOfAConfiguration() {
        #expect(BarmanJSON.barmanUser(configuration: "[barman]\nbarman_home = /x\n") == "barman")
        #expect(BarmanJSON.barmanUser(configuration: "; comment\n[barman]\n barman_user = backup \n[pg]\nbarman_user = nope\n") == "backup")
        #expect(BarmanJSON.barmanUser(configuration: "[pg]\nbarman_user = nope\n") == "barman")
        #expect(BarmanJSON.barmanUser(configuration: "[barman]\nbarman_user: colon\n") == "colon")
    }

    @Test func cloudListOrdersByTheZonelessTimes() throws {
        let b = try BarmanCloudJSON.backupList(BarmanSamples.cloudList)
        #expect(b.map(\.id) == ["20261201T210405", "20261201T210451"])
        #expect(b[1].timeSource == "catalogue_ctime_utc")
        #expect(b[1].endTime == RFC3339.parse("2026-12-01T21:04:55Z"))
        #expect(b[1].beginWAL == "000000010000000000000007")
        #expect(b[1].segmentSize == 16_777_216)
        #expect(b[1].systemID == "7714444198547390699")
        #expect(BarmanCatalogue.usable(b).map(\.id) == ["20261201T210451", "20261201T210405"])
        #expect(try BarmanCloudJSON.backupList(#"{"backups_list": []}"#).isEmpty)
        #expect(throws: BarmanJSON.ParseError.self) { try BarmanCloudJSON.backupList(#"{"other": 1}"#) }
    }

    @Test func ctime() {
        #expect(BarmanCloudJSON.ctime("Tue Dec  1 21:04:55 2026") == RFC3339.parse("2026-12-01T21:04:55Z"))
        #expect(BarmanCloudJSON.ctime("Sat Nov 28 07:30:00 2026") == RFC3339.parse("2026-11-28T07:30:00Z"))
        #expect(BarmanCloudJSON.ctime("2026-12-01 21:04:55") == nil)
        #expect(BarmanCloudJSON.ctime(nil) == nil)
    }

    @Test func backupInfoKeepsTheOffset() throws {
        let b = try #require(BarmanCloudJSON.backupInfo(BarmanSamples.backupInfo, id: "20261201T210451"))
        #expect(b.id == "20261201T210451")
        #expect(b.timeSource == "backup_info")
        // 23:04:55.044710+02:00 is 21:04:55.044710Z.
        #expect(b.endTime.map { abs($0.timeIntervalSince(RFC3339.parse("2026-12-01T21:04:55Z")!) - 0.04471) < 0.000_01 } == true)
        #expect(b.beginTime.map { abs($0.timeIntervalSince(RFC3339.parse("2026-12-01T21:04:51Z")!) - 0.791845) < 0.000_01 } == true)
        #expect(b.error == nil)
        #expect(b.sizeBytes == nil)
        #expect(b.segmentSize == 16_777_216)
        #expect(BarmanCloudJSON.backupInfo("just text", id: "x") == nil)
        // The zoned times replace the list's zone-less ones; the rest is kept.
        let listed = try BarmanCloudJSON.backupList(BarmanSamples.cloudList)[1]
        let merged = listed.merged(with: b)
        #expect(merged.endTime == b.endTime)
        #expect(merged.timeSource == "backup_info")
        #expect(merged.beginWAL == listed.beginWAL)
    }

    @Test func toolErrorLines() {
        let stderr = """
            2026-12-01 21:07:38,289 [3051] ERROR: Barman cloud WAL restore exception: An error occurred (403) when calling the HeadBucket operation: Forbidden
            some traceback line
            """
        #expect(BarmanCloudJSON.errorLines(stderr) == ["Barman cloud WAL restore exception: An error occurred (403) when calling the HeadBucket operation: Forbidden"])
        #expect(BarmanCloudJSON.errorLines("").isEmpty)
    }
}

@Suite("Choosing a Barman backup")
struct BarmanCatalogueTests {
    static func backup(_ id: String, _ status: String = "DONE", end: String?) -> BarmanBackup {
        BarmanBackup(id: id, status: status, endTime: end.flatMap(RFC3339.parse), timeSource: "catalogue_epoch")
    }

    let backups = [
        backup("20261101T000000", end: "2026-11-01T00:10:00Z"),
        backup("20261201T000000", end: "2026-12-01T00:10:00Z"),
        backup("20261202T000000", "FAILED", end: nil),
        backup("20261115T000000", "WAITING_FOR_WALS", end: "2026-11-15T00:10:00Z"),
    ]

    @Test func latestIsTheNewestDoneBackup() async throws {
        let chosen = try await BarmanCatalogue.choose(backups, target: .latest, place: "p") { $0 }
        #expect(chosen.id == "20261201T000000")
        let random = try await BarmanCatalogue.choose(backups, target: .random, place: "p") { $0 }
        #expect(random.id == "20261201T000000")
    }

    @Test func aTimeTargetTakesTheNewestBackupThatEndedBeforeIt() async throws {
        let t = try #require(RFC3339.parse("2026-11-20T00:00:00Z"))
        var asked: [String] = []
        let chosen = try await BarmanCatalogue.choose(backups, target: .time(t), place: "p") { b in
            asked.append(b.id)
            return b
        }
        #expect(chosen.id == "20261101T000000")
        #expect(asked == ["20261201T000000", "20261101T000000"], "newest first, only DONE backups")
        let early = try #require(RFC3339.parse("2026-10-01T00:00:00Z"))
        await #expect(throws: DrillError.self) { try await BarmanCatalogue.choose(backups, target: .time(early), place: "p") { $0 } }
    }

    @Test func theZonedTimesDecide() async throws {
        // The list says 00:10 (read as UTC); backup.info says 00:10+01:00, i.e. 23:10 the day before: before the target.
        let t = try #require(RFC3339.parse("2026-11-30T23:30:00Z"))
        let chosen = try await BarmanCatalogue.choose(backups, target: .time(t), place: "p") { b in
            var z = b
            if b.id == "20261201T000000" { z.endTime = RFC3339.parse("2026-11-30T23:10:00Z") }
            return z
        }
        #expect(chosen.id == "20261201T000000")
    }

    @Test func nothingUsableSaysWhy() {
        let none = BarmanCatalogue.nothingUsable([], where: "s3://b/p (server prod)")
        #expect(none.code == .backupNotFound)
        #expect(none.message == "s3://b/p (server prod) holds no backup")
        var failed = Self.backup("20261202T000000", "FAILED", end: nil)
        failed.error = "failure copying files"
        let some = BarmanCatalogue.nothingUsable([failed, Self.backup("20261203T000000", "STARTED", end: nil)], where: "Barman server pg")
        #expect(some.message == "Barman server pg holds no completed backup: 1 FAILED, 1 STARTED (backup 20261202T000000: failure copying files)")
    }
}

@Suite("barman-cloud's WAL archive layout")
struct BarmanCloudWALTests {
    static func object(_ key: String, at seconds: Double = 0) -> BackupObject {
        BackupObject(uri: "s3://b/" + key, name: String(key.split(separator: "/").last!), sizeBytes: 16,
                     modifiedAt: Date(timeIntervalSince1970: seconds), key: key)
    }

    @Test func foldersFromTheStartOn() throws {
        let start = try #require(WALSegment(name: "0000000200000003000000A0"))
        #expect(BarmanCloudWAL.folderNeeded("0000000200000003", from: start))
        #expect(BarmanCloudWAL.folderNeeded("0000000200000004", from: start))
        #expect(BarmanCloudWAL.folderNeeded("0000000300000003", from: start))
        #expect(!BarmanCloudWAL.folderNeeded("0000000200000002", from: start))
        #expect(!BarmanCloudWAL.folderNeeded("0000000100000005", from: start))
        #expect(!BarmanCloudWAL.folderNeeded("00000002.history", from: start))
        #expect(!BarmanCloudWAL.folderNeeded("not-a-folder-xyz", from: start))
        // 1 GiB segments: 4 per 4 GiB "log".
        let big = try #require(WALSegment(name: "000000010000000500000002", segmentSize: 1 << 30))
        #expect(BarmanCloudWAL.folderNeeded("0000000100000005", from: big))
        #expect(!BarmanCloudWAL.folderNeeded("0000000100000004", from: big))
    }

    @Test func compressedFilesAreClassified() throws {
        let objects = [
            Self.object("p/srv/wals/00000002.history"),
            Self.object("p/srv/wals/0000000100000000/000000010000000000000007"),
            Self.object("p/srv/wals/0000000100000000/000000010000000000000007.00000028.backup"),
            Self.object("p/srv/wals/0000000100000000/000000010000000000000008.gz"),
            Self.object("p/srv/wals/0000000100000000/000000010000000000000009.bz2"),
            Self.object("p/srv/wals/0000000200000000/00000002000000000000000A.snappy", at: 9),
            Self.object("p/srv/wals/0000000100000000/00000001000000000000000B.partial"),
        ]
        let archive = BarmanCloudWAL.classify(objects, segmentSize: WALSegment.defaultSize)
        #expect(archive.segments.count == 4)
        #expect(archive.timelineHistories.keys.sorted() == [2])
        #expect(archive.backupHistories.keys.sorted() == ["000000010000000000000007.00000028.backup"])
        let byName = Dictionary(uniqueKeysWithValues: archive.segments.values.map { ($0.walName, $0) })
        #expect(byName["000000010000000000000008"]?.compressed == true)
        #expect(BarmanCloudWAL.needsTool(byName["000000010000000000000009"]!))
        #expect(BarmanCloudWAL.needsTool(byName["00000002000000000000000A"]!))
        #expect(!BarmanCloudWAL.needsTool(byName["000000010000000000000008"]!))
        #expect(!BarmanCloudWAL.needsTool(byName["000000010000000000000007"]!))
        #expect(archive.newest?.segment.name == "00000002000000000000000A")
        let plan = archive.plan(from: try #require(WALSegment(name: "000000010000000000000007")))
        #expect(plan.firstMissing == nil)
        #expect(plan.segments.map(\.walName) == ["000000010000000000000007", "000000010000000000000008",
                                                  "000000010000000000000009", "00000002000000000000000A"])
    }
}
