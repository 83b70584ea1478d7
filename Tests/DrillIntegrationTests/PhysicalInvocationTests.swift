import DrillCore
import DrillLive
import Foundation
import Testing

/// The physical restore's settings and tool invocations are data: checked here without running anything.
@Suite("Physical restore settings and invocations")
struct PhysicalInvocationTests {
    @Test func recoverySettingsNeverArchiveAndCopyFromThePrivateFolder() {
        let base = Dictionary(PhysicalSettings.forRecovery(profile: .durable, memoryBytes: 8 << 30), uniquingKeysWith: { _, b in b })
        #expect(base["archive_mode"] == "off")
        #expect(base["archive_command"] == "")
        #expect(base["hot_standby"] == "off")
        #expect(base["listen_addresses"] == "")
        #expect(base["fsync"] == "on")
        #expect(base["wal_level"] == nil, "the source's wal_level is kept: recovery refuses a lower one")
        #expect(base["max_connections"] == nil)
        let target = RFC3339.parse("2026-11-28T07:30:00.25+01:00")!
        let r = Dictionary(PhysicalSettings.recovery(walDirectory: "/s/wal", target: target), uniquingKeysWith: { _, b in b })
        #expect(r["restore_command"] == #"cp '/s/wal'/"%f" "%p""#)
        // A scratch path with a quote or a percent sign cannot break out of the command.
        let odd = Dictionary(PhysicalSettings.recovery(walDirectory: "/tmp/it's 100%/wal", target: nil), uniquingKeysWith: { _, b in b })
        #expect(odd["restore_command"] == #"cp '/tmp/it'\''s 100%%/wal'/"%f" "%p""#)
        #expect(r["recovery_target_time"] == "2026-11-28 06:30:00.250+00")
        #expect(r["recovery_target_action"] == "promote")
        #expect(r["recovery_target_timeline"] == "latest")
        let latest = Dictionary(PhysicalSettings.recovery(walDirectory: "/s/wal", target: nil), uniquingKeysWith: { _, b in b })
        #expect(latest["recovery_target_time"] == nil)
        // Rendered for postgresql.auto.conf: single quotes, embedded quotes doubled.
        #expect(ServerSettings.render([("restore_command", "cp '/a/%f' '%p'")]) == "restore_command = 'cp ''/a/%f'' ''%p'''\n")
    }

    @Test func toolArguments() {
        #expect(BaseBackupSession.verifyArguments(manifest: "/s/backup_manifest", data: "/s/data", parseWAL: true) == ["--manifest-path=/s/backup_manifest", "/s/data"])
        #expect(BaseBackupSession.verifyArguments(manifest: "/s/m", data: "/s/data", parseWAL: false).contains("--no-parse-wal"))
        let a = WALSegment(name: "000000010000000000000002")!, b = WALSegment(name: "000000010000000000000005")!
        #expect(BaseBackupSession.walDumpArguments(walDirectory: "/s/wal", from: a, to: b) ==
            ["--path=/s/wal", "--rmgr=Transaction", "000000010000000000000002", "000000010000000000000005"])
    }

    @Test("streamed extraction: tar reads standard input, gzip through pigz when given, lz4 and zstd through their tools")
    func streamedTarArguments() {
        #expect(BaseBackupSession.untarStreamArguments(compression: "base.tar.gz", pigz: "/usr/bin/pigz", into: "/s/data")
            == ["-x", "-I", "/usr/bin/pigz", "--no-same-owner", "-f", "-", "-C", "/s/data"])
        #expect(BaseBackupSession.untarStreamArguments(compression: "base.tar.gz", pigz: nil, into: "/s/data")
            == ["-x", "-z", "--no-same-owner", "-f", "-", "-C", "/s/data"])
        #expect(BaseBackupSession.untarStreamArguments(compression: "base.tar.lz4", pigz: nil, into: "/d") == ["-x", "-I", "lz4", "--no-same-owner", "-f", "-", "-C", "/d"])
        #expect(BaseBackupSession.untarStreamArguments(compression: "base.tar.zst", pigz: nil, into: "/d") == ["-x", "-I", "zstd -T0", "--no-same-owner", "-f", "-", "-C", "/d"])
        #expect(BaseBackupSession.untarStreamArguments(compression: "pg_wal.tar", pigz: "/p", into: "/d") == ["-x", "--no-same-owner", "-f", "-", "-C", "/d"])
    }

    @Test("incremental chains: pg_combinebackup into the data folder, --link from 18")
    func incrementalArguments() {
        #expect(BaseBackupSession.combineArguments(["/s/chain/00", "/s/chain/01"], output: "/s/data", major: 17)
            == ["/s/chain/00", "/s/chain/01", "--output=/s/data", "--no-sync"])
        #expect(BaseBackupSession.combineArguments(["/s/chain/00"], output: "/s/data", major: 18)
            == ["/s/chain/00", "--output=/s/data", "--no-sync", "--link"])
    }

    @Test("the waiting restore_command: the script path quoted, % doubled; the script reads only the WAL folder")
    func waitingRestoreCommand() {
        let r = Dictionary(PhysicalSettings.recovery(waitScript: "/tmp/it's 100%/wal-wait.sh", target: nil), uniquingKeysWith: { _, b in b })
        #expect(r["restore_command"] == #"'/tmp/it'\''s 100%%/wal-wait.sh' "%f" "%p""#)
        #expect(r["recovery_target_timeline"] == "latest")
        let script = WALWaitScript.text(walDirectory: "/s/o'dd/wal")
        #expect(script.contains(#"d='/s/o'\''dd/wal'"#))
        #expect(!script.contains("curl") && !script.contains("http") && !script.contains("AWS"))
    }

    @Test("the segment size backup_label implies: unique for a start past the first segments, nil when several fit")
    func impliedSegmentSize() throws {
        let label = try BackupLabel.parse("START WAL LOCATION: 0/7000028 (file 000000010000000000000007)")
        #expect(label.impliedSegmentSize == 16 << 20)
        let big = try BackupLabel.parse("START WAL LOCATION: 0/40000028 (file 000000010000000000000001)")
        #expect(big.impliedSegmentSize == 1 << 30)
        let first = try BackupLabel.parse("START WAL LOCATION: 0/28 (file 000000010000000000000000)")
        #expect(first.impliedSegmentSize == nil)
    }
}
