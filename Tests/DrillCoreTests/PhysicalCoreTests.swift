import DrillCore
import DrillTesting
import Foundation
import Testing

@Suite("Physical restore: WAL names, backup labels, gaps, targets")
struct PhysicalCoreTests {
    @Test func segmentNamesRoundTrip() throws {
        let s = try #require(WALSegment(name: "00000001000000000000002A"))
        #expect(s.timeline == 1 && s.number == 42)
        #expect(s.next.name == "00000001000000000000002B")
        // 16 MiB segments: 256 per log id, so ...FF is followed by the next log id.
        #expect(try #require(WALSegment(name: "0000000200000003000000FF")).next.name == "000000020000000400000000")
        #expect(WALSegment(lsn: LSN("0/2000028")!, timeline: 1).name == "000000010000000000000002")
        // 64 MiB segments: 64 per log id.
        let big = WALSegment(lsn: LSN("1/C000000")!, timeline: 3, segmentSize: 64 << 20)
        #expect(big.name == "000000030000000100000003")
        #expect(WALSegment(name: "000000010000000000000100") == nil, "segment part beyond the log id")
        #expect(WALSegment(name: "00000001000000000000002a") == nil, "lower case is not a segment name")
        #expect(WALSegment(name: "000000010000000000000002.partial") == nil)
        #expect(LSN("16/B374D848")?.description == "16/B374D848")
        #expect(LSN("nope") == nil)
    }

    static let label = """
        START WAL LOCATION: 0/2000028 (file 000000010000000000000002)
        CHECKPOINT LOCATION: 0/2000060
        BACKUP METHOD: streamed
        BACKUP FROM: primary
        START TIME: 2026-11-28 07:30:00 UTC
        LABEL: pg_basebackup base backup
        START TIMELINE: 1
        """

    @Test func backupLabelAndHistoryFile() throws {
        let l = try BackupLabel.parse(Self.label)
        #expect(l.startLSN == LSN("0/2000028"))
        #expect(l.startSegmentName == "000000010000000000000002")
        #expect(l.startTimeline == 1)
        #expect(l.method == "streamed")
        #expect(l.startTime == RFC3339.parse("2026-11-28T07:30:00Z"))
        #expect(l.historyFileName(segmentSize: WALSegment.defaultSize) == "000000010000000000000002.00000028.backup")
        let h = try BackupLabel.parse(Self.label.replacingOccurrences(of: "CHECKPOINT", with: "STOP WAL LOCATION: 0/2000100 (file 000000010000000000000002)\nCHECKPOINT") + "\nSTOP TIME: 2026-11-28 07:30:05 +01\n")
        #expect(h.stopSegmentName == "000000010000000000000002")
        #expect(h.stopTime == RFC3339.parse("2026-11-28T06:30:05Z"))
        #expect(try BackupLabel.parse("START TIME: 2026-11-28 07:30:00 CET\nSTART WAL LOCATION: 0/1 (file 000000010000000000000000)").startTime == nil,
                "an ambiguous zone abbreviation is not guessed")
        #expect(throws: BackupLabel.ParseError.missingStart) { try BackupLabel.parse("LABEL: x") }
    }

    func archive(_ names: [String]) -> WALArchive {
        WALArchive(objects: names.map { BackupObject(uri: "/a/\($0)", name: $0, sizeBytes: 1, modifiedAt: Date(timeIntervalSince1970: 0)) })
    }

    @Test func contiguousArchivePlansEverySegmentFromTheBackup() throws {
        let a = archive(["000000010000000000000001", "000000010000000000000002", "000000010000000000000002.00000028.backup",
                         "000000010000000000000003.gz", "000000010000000000000004", "000000010000000000000004.gz",
                         "archive_status", "000000010000000000000005.partial"])
        let plan = a.plan(from: try #require(WALSegment(name: "000000010000000000000002")))
        #expect(plan.firstMissing == nil && plan.gapFinding == nil)
        #expect(plan.segments.map(\.walName) == ["000000010000000000000002", "000000010000000000000003", "000000010000000000000004"])
        #expect(plan.segments.map(\.compressed) == [false, true, false], "the plain copy wins over .gz")
        #expect(plan.newestArchived?.name == "000000010000000000000004")
        #expect(a.backupHistories["000000010000000000000002.00000028.backup"] != nil)
    }

    @Test func aGapNamesTheFirstMissingSegmentAndStopsThePlan() throws {
        let a = archive(["000000010000000000000002", "000000010000000000000003", "000000010000000000000005", "000000010000000000000006"])
        let plan = a.plan(from: try #require(WALSegment(name: "000000010000000000000002")))
        #expect(plan.firstMissing?.name == "000000010000000000000004")
        #expect(plan.segments.count == 2)
        #expect(plan.lastContiguous?.name == "000000010000000000000003")
        #expect(plan.gapFinding?.contains("000000010000000000000004 is missing") == true)
        let empty = archive([]).plan(from: try #require(WALSegment(name: "000000010000000000000002")))
        #expect(empty.firstMissing?.name == "000000010000000000000002")
        #expect(empty.gapFinding?.contains("no segment") == true)
    }

    @Test func laterTimelinesAndTheirHistoryAreFollowed() throws {
        let a = archive(["000000010000000000000002", "000000010000000000000003", "00000002.history", "000000020000000000000003",
                         "000000020000000000000004", "000000010000000000000001"])
        let plan = a.plan(from: try #require(WALSegment(name: "000000010000000000000002")))
        #expect(plan.firstMissing == nil)
        #expect(plan.histories.map(\.walName) == ["00000002.history"])
        #expect(plan.segments.map(\.walName) == ["000000010000000000000002", "000000010000000000000003", "000000020000000000000003",
                                                 "000000020000000000000004"])
        #expect(plan.newestArchived?.name == "000000020000000000000004")
        // A backup taken on timeline 2 needs that timeline's history (its ancestry), not timeline 1's.
        let onTwo = archive(["00000002.history", "000000020000000000000007", "00000003.history"])
            .plan(from: try #require(WALSegment(name: "000000020000000000000007")))
        #expect(onTwo.histories.map(\.walName) == ["00000002.history", "00000003.history"])
    }

    @Test func targets() throws {
        let end = RFC3339.parse("2026-11-28T07:30:00Z")!
        let last = RFC3339.parse("2026-11-28T08:30:00Z")!
        #expect(RecoveryTarget("latest") == .latest && RecoveryTarget("random") == .random)
        #expect(RecoveryTarget("2026-11-28T07:45:00+01:00") == .time(RFC3339.parse("2026-11-28T06:45:00Z")!))
        #expect(RecoveryTarget("yesterday") == nil)
        #expect(try RecoveryTarget.latest.resolve(backupEnd: end, archiveEnd: last, unit: { 0.5 }) == nil)
        let t = RFC3339.parse("2026-11-28T08:00:00Z")!
        #expect(try RecoveryTarget.time(t).resolve(backupEnd: end, archiveEnd: nil, unit: { 0 }) == t)
        #expect(try RecoveryTarget.random.resolve(backupEnd: end, archiveEnd: last, unit: { 0.25 }) == RFC3339.parse("2026-11-28T07:45:00Z"))
        #expect(try RecoveryTarget.random.resolve(backupEnd: end, archiveEnd: end, unit: { 0.25 }) == nil,
                "nothing archived after the backup: replay everything")
        let early = RFC3339.parse("2026-11-28T07:00:00Z")!
        let error = #expect(throws: DrillError.self) { try RecoveryTarget.time(early).resolve(backupEnd: end, archiveEnd: last, unit: { 0 }) }
        #expect(error?.code == .configuration)
        #expect(error?.message.contains("before the end of the base backup") == true)
    }
}

/// The runner's physical flow with a fake session: phases, RPO against a target, gaps, verification, exit codes.
@Suite("Drill runner: physical flow")
struct PhysicalRunnerTests {
    let now = RFC3339.parse("2026-11-28T12:00:00Z")!
    let tier = TierConfig(name: "critical", rto: DrillDuration(seconds: 3600), rpo: DrillDuration(seconds: 300))

    func run(target: String? = nil, wal names: [String], lastCommit: Date?, verifyFails: Bool = false, unit: Double = 0.5)
        async throws -> (DrillReport, FakePhysicalSession) {
        let clock = ManualClock(), log = FakeLog()
        let label = try BackupLabel.parse(PhysicalCoreTests.label)
        let session = FakePhysicalSession(clock: clock, log: log, label: label, lastCommit: lastCommit, verifyFails: verifyFails)
        let backupObject = BackupObject(uri: "/b/base-1", name: "base-1", sizeBytes: nil, modifiedAt: now.addingTimeInterval(-7200),
                                        isDirectory: true, localPath: nil)
        let stores = FakeStores(backup: FakeStore(object: backupObject, head: []),
                                wal: FakeListingStore(names: names, modifiedAt: now.addingTimeInterval(-30)), walLocation: "/wal")
        var deps = DrillDependencies.fake(store: FakeStore(object: nil, head: []),
                                          restorer: FakeRestorer(clock: clock, behaviour: .hang, log: log),
                                          provisioner: FakeProvisioner(clock: clock, seconds: 0, log: log),
                                          connector: FakeConnector(clock: clock, value: "1", seconds: 0.5), now: now)
        deps.stores = stores
        deps.physicalRestorer = FakePhysicalRestorer(session: session)
        deps.randomUnit = { unit }
        let drill = DrillConfig(name: "pg", tier: "critical", backup: BackupConfig(location: "/b", format: .basebackup),
                                checks: [CheckConfig(name: "c", sql: "SELECT 1", expect: Expectation(min: 1))],
                                wal: WALConfig(location: "/wal"), recovery: target.map { RecoveryConfig(target: $0) })
        return (await DrillRunner(deps: deps, clock: clock).run(drill, tier: tier), session)
    }

    let segments = ["000000010000000000000002", "000000010000000000000003", "000000010000000000000004"]

    @Test func latestReplaysEverythingAndMeasuresRPOFromTheLastCommit() async throws {
        let commit = now.addingTimeInterval(-90)
        let (r, session) = try await run(wal: segments, lastCommit: commit)
        #expect(r.status == .compliant, "findings: \(r.findings)")
        #expect(r.phases.map(\.name) == ["fetch", "provision", "extract", "verify", "wal_fetch", "wal_replay", "checks"])
        #expect(session.imported == segments)
        #expect(session.recoveredTo == .some(nil))
        #expect(r.measured.recoveryPoint == commit)
        #expect(r.measured.recoveryPointSource == "wal_replay")
        #expect(r.measured.rpoSeconds == 90)
        #expect(r.measured.rtoSeconds == 9.8)  // 3 s extract + 1 s verify + 0.3 s WAL + 5 s replay + 0.5 s check
        #expect(r.wal?.segmentsFetched == 3)
        #expect(r.wal?.bytesFetched == Int64(3 * (16 << 20)))
        #expect(r.wal?.verifiedWith == "pg_verifybackup 15.0")
        #expect(r.wal?.timeline == 2)
        #expect(r.wal?.backupEndSource == "backup_mtime", "no backup history file in this archive")
        #expect(session.log.events == ["prepare", "extract", "verify", "recover", "teardown"])
        #expect(MarkdownReport.render(r).contains("| WAL fetched | 3 segments, \(3 * (16 << 20)) bytes |"))
    }

    @Test func anExplicitTargetIsTheRPOReference() async throws {
        let target = now.addingTimeInterval(-600)
        let (r, session) = try await run(target: RFC3339.format(target), wal: segments, lastCommit: target.addingTimeInterval(-2))
        #expect(session.recoveredTo == .some(target))
        #expect(r.measured.rpoSeconds == 2)
        #expect(r.wal?.targetTime == target)
        #expect(r.status == .compliant)
    }

    @Test func aRandomTargetUsesTheInjectedRandomSource() async throws {
        // Backup end = the backup folder's time (2 h ago); last archived commit 1 h ago; unit 0.5 → 1.5 h ago.
        let (r, session) = try await run(target: "random", wal: segments, lastCommit: now.addingTimeInterval(-3600), unit: 0.5)
        #expect(session.recoveredTo == .some(now.addingTimeInterval(-5400)))
        #expect(r.wal?.target == "random")
        #expect(r.wal?.targetTime == now.addingTimeInterval(-5400))
    }

    @Test func aGapFailsBeforeReplayAndNamesTheSegment() async throws {
        let (r, session) = try await run(wal: [segments[0], segments[2]], lastCommit: nil)
        #expect(r.status == .failed)
        #expect(r.failureCode == "wal_gap")
        #expect(ExitCode(r) == .failed)
        #expect(r.wal?.firstMissingSegment == "000000010000000000000003")
        #expect(r.findings.contains { $0.contains("000000010000000000000003 is missing") })
        #expect(session.recoveredTo == nil)
        #expect(session.log.events.last == "teardown")
    }

    @Test func aTargetBeforeTheBackupIsAConfigurationErrorWithExitCode2() async throws {
        let (r, session) = try await run(target: RFC3339.format(now.addingTimeInterval(-3 * 3600)), wal: segments, lastCommit: nil)
        #expect(r.status == .failed)
        #expect(r.failureCode == "configuration")
        #expect(ExitCode(r) == .usage)
        #expect(session.imported.isEmpty, "checked before any WAL is fetched")
        #expect(session.log.events.last == "teardown")
    }

    @Test func aFailedVerificationFailsTheDrill() async throws {
        let (r, session) = try await run(wal: segments, lastCommit: nil, verifyFails: true)
        #expect(r.status == .failed)
        #expect(ExitCode(r).rawValue == 3)
        #expect(r.phases.last?.name == "verify" && r.phases.last?.ok == false)
        #expect(session.recoveredTo == nil)
        #expect(session.log.events.last == "teardown")
    }
}

@Suite("Config: basebackup drills")
struct PhysicalConfigTests {
    func issues(_ json: String) throws -> [String] {
        let r = ConfigReader(file: "drills/x.json")
        _ = DrillConfig.parse(try JSONValue.parse(Data(json.utf8)), name: "x", file: "drills/x.json", tiers: nil, reader: r)
        return r.issues.map(\.description)
    }

    @Test func aBasebackupDrillNeedsAWALArchiveAndAnEmbeddedTarget() throws {
        #expect(try issues(#"{ "version": 1, "tier": "t", "backup": { "location": "/b", "format": "basebackup" }, "wal": { "location": "/w" }, "recovery": { "target": "random" }, "database": "orders" }"#).isEmpty)
        #expect(try issues(#"{ "version": 1, "tier": "t", "backup": { "location": "/b", "format": "basebackup" } }"#)
            .contains { $0.contains("wal") && $0.contains("needs wal.location") })
        #expect(try issues(#"{ "version": 1, "tier": "t", "backup": { "location": "/b", "format": "basebackup" }, "wal": { "location": "/w" }, "target": { "kind": "server", "url": "postgresql://x" } }"#)
            .contains { $0.contains("target.kind") })
        #expect(try issues(#"{ "version": 1, "tier": "t", "backup": { "location": "/b", "format": "basebackup" }, "wal": { "location": "/w" }, "recovery": { "target": "2026-11-28 07:30" } }"#)
            .contains { $0.contains("recovery.target") })
    }

    @Test("wal.connections and wal.window_mib: defaults 4 and 1 GiB, checked ranges")
    func prefetchSettings() throws {
        func wal(_ extra: String) throws -> (WALConfig?, [String]) {
            let r = ConfigReader(file: "drills/x.json")
            let d = DrillConfig.parse(try JSONValue.parse(Data(#"{ "version": 1, "tier": "t", "backup": { "location": "/b", "format": "basebackup" }, "wal": { "location": "/w"\#(extra) } }"#.utf8)),
                                      name: "x", file: "drills/x.json", tiers: nil, reader: r)
            return ((d?.settings as? BaseBackupSettings)?.wal, r.issues.map(\.description))
        }
        let (plain, none) = try wal("")
        #expect(none.isEmpty)
        #expect(plain?.connections == 4 && plain?.windowBytes == 1 << 30)
        let (set, ok) = try wal(#", "connections": 8, "window_mib": 64"#)
        #expect(ok.isEmpty)
        #expect(set?.connections == 8 && set?.windowBytes == 64 << 20)
        #expect(try wal(#", "connections": 0"#).1.contains { $0.contains("wal.connections") })
        #expect(try wal(#", "window_mib": "1GiB""#).1.contains { $0.contains("wal.window_mib") })
    }
}

@Suite("pg_waldump output")
struct WALDumpTests {
    @Test func lastCommitIsFound() {
        let out = """
            rmgr: Transaction len (rec/tot):     34/    34, tx:        735, lsn: 0/03000060, prev 0/03000028, desc: COMMIT 2026-11-28 07:30:01.123456 UTC
            rmgr: Transaction len (rec/tot):     34/    34, tx:        736, lsn: 0/03000090, prev 0/03000060, desc: ABORT 2026-11-28 07:30:03.000000 UTC
            rmgr: Transaction len (rec/tot):    130/   130, tx:        737, lsn: 0/030000C8, prev 0/03000090, desc: COMMIT 2026-11-28 07:30:02.500000 UTC; inval msgs: catcache 7
            rmgr: Transaction len (rec/tot):     34/    34, tx:        738, lsn: 0/03000150, prev 0/030000C8, desc: COMMIT 2026-11-28 08:30:09.000000 CET
            pg_waldump: error: error in WAL record at 0/3000150: invalid record length at 0/3000188: wanted 24, got 0
            """
        #expect(WALDump.lastCommitTime(in: out) == RFC3339.parse("2026-11-28T07:30:02.5Z"))
        #expect(WALDump.lastCommitTime(in: "pg_waldump: error: could not find file") == nil)
    }
}
