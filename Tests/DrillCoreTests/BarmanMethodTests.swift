import DrillCore
import DrillTesting
import Foundation
import Testing

/// The Barman methods' logic with fake tools and stores: which WAL is fetched how, gaps, Barman's own checks.
@Suite("Barman methods with fakes")
struct BarmanMethodTests {
    static let now = RFC3339.parse("2026-12-01T22:00:00Z")!
    static let backupEnd = RFC3339.parse("2026-12-01T21:04:55Z")!
    static let lastCommit = RFC3339.parse("2026-12-01T21:30:00Z")!
    let tier = TierConfig(name: "critical", rto: DrillDuration(seconds: 3600), rpo: DrillDuration(seconds: 3600))

    /// A bucket as prefixes: objects directly under each prefix, and its sub-prefixes.
    struct Bucket: BackupStoreFactory {
        var objects: [String: [BackupObject]]
        var backupInfo: String

        func store(location: String, endpoint: String?, region: String?) throws -> any BackupStore {
            Prefix(location: location, bucket: self)
        }

        struct Prefix: BackupStore {
            let location: String
            let bucket: Bucket
            func list(matching pattern: Glob?) async throws -> [BackupObject] {
                (bucket.objects[location] ?? []).filter { pattern?.matches($0.name) ?? true }
            }
            func listFolders(matching pattern: Glob?) async throws -> [BackupObject] {
                bucket.objects.keys.filter { $0.hasPrefix(location) && $0 != location && !$0.dropFirst(location.count).dropLast().contains("/") }
                    .map { BackupObject(uri: $0, name: String($0.dropFirst(location.count).dropLast()), sizeBytes: nil, modifiedAt: now, isDirectory: true) }
            }
            func head(_ object: BackupObject, count: Int) async throws -> [UInt8] { Array(bucket.backupInfo.utf8) }
            func stage(_ object: BackupObject, into directory: String, progress: TransferProgress?) async throws -> StagedBackup {
                throw DrillError(.unsupported, "not in this test")
            }
            func stream(_ object: BackupObject, to sink: FileHandle, progress: TransferProgress?) async throws -> StreamReceipt {
                throw DrillError(.unsupported, "not in this test")
            }
            func sidecarDigest(for object: BackupObject) async throws -> String? { nil }
        }
    }

    static let walRoot = "s3://b/barman/prod/wals/"

    static func wal(_ folder: String, _ name: String, at: Date = now) -> BackupObject {
        let key = "barman/prod/wals/\(folder.isEmpty ? "" : folder + "/")\(name)"
        return BackupObject(uri: "s3://b/" + key, name: name, sizeBytes: 16 << 20, modifiedAt: at, key: key)
    }

    /// Records what the method asked of the scratch cluster.
    final class Scratch: BarmanCloudScratch, BarmanServerScratch, @unchecked Sendable {
        let log = FakeLog()
        var kind: String { "embedded" }
        var database: String { "ledger" }
        var connection: ConnectionParameters { ConnectionParameters(["dbname": "ledger"]) }
        var serverVersion: String { "15.18" }
        var settings: [String: String] { [:] }
        var keepInstructions: String { "" }
        var walDirectory: String { "/fake/wal" }
        func teardown() async -> TeardownResult {
            log.add("teardown")
            return TeardownResult(removed: true)
        }
        func lastCommit(from: WALSegment, to: WALSegment) async -> Date? { BarmanMethodTests.lastCommit }
        func recover(target: Date?) async throws -> RecoveryOutcome {
            log.add("recover \(target.map { RFC3339.format($0) } ?? "latest")")
            return RecoveryOutcome(lastReplayedCommit: BarmanMethodTests.lastCommit, replayLSN: "0/9000000", timeline: 2, serverVersion: "15.18")
        }
        func restore(_ settings: BarmanCloudSettings, backup id: String) async throws -> BarmanRestoreOutcome {
            log.add("barman-cloud-restore \(id)")
            return BarmanRestoreOutcome(bytes: 1000, walSegmentSize: 16 << 20)
        }
        func deliverWAL(_ files: [WALArchive.File], from store: any BackupStore, settings: BarmanCloudSettings,
                        options: WALDeliveryOptions) async throws -> Int64 {
            var bytes: Int64 = 0
            for file in files {
                if BarmanCloudWAL.needsTool(file) {
                    log.add("barman-cloud-wal-restore \(file.walName)")
                    bytes += 20
                } else {
                    log.add("import \(file.walName)\(file.compressed ? " (gunzip)" : "")")
                    bytes += 10
                }
            }
            return bytes
        }
        func restore(_ settings: BarmanSettings, backup id: String) async throws -> BarmanRestoreOutcome {
            log.add("barman recover \(id)")
            return BarmanRestoreOutcome(bytes: 1000, walSegmentSize: 16 << 20)
        }
        func deliverWAL(_ files: [WALArchive.File], options: WALDeliveryOptions) async throws -> Int64 {
            for file in files { log.add("copy \(file.walName)") }
            return files.reduce(0) { $0 + ($1.object.sizeBytes ?? 0) }
        }
    }

    struct CloudTool: BarmanCloudTool {
        let scratch: Scratch
        var backups: [BarmanBackup]
        func listBackups(_ settings: BarmanCloudSettings) async throws -> (backups: [BarmanBackup], tool: String) {
            (backups, "barman-cloud-backup-list 3.4.0")
        }
        func prepare(drill: DrillConfig, postgres: PostgresInstallation?) async throws -> any BarmanCloudScratch { scratch }
    }

    static let listed = BarmanBackup(id: "20261201T210451", status: "DONE", endTime: RFC3339.parse("2026-12-01T21:04:55Z"),
                                     timeSource: "catalogue_ctime_utc", beginWAL: "000000010000000000000007",
                                     endWAL: "000000010000000000000007", segmentSize: 16 << 20)

    func deps(_ factory: any BackupStoreFactory) -> DrillDependencies {
        let clock = ManualClock(), log = FakeLog()
        return DrillDependencies.fake(store: FakeStore(object: nil, head: []), restorer: FakeRestorer(clock: clock, behaviour: .succeed(seconds: 1), log: log),
                                      provisioner: FakeProvisioner(clock: clock, seconds: 1, log: log),
                                      connector: FakeConnector(clock: clock, value: "1", seconds: 0), now: Self.now)
            .withStores(factory)
    }

    func cloudDrill(target: String = "latest") -> DrillConfig {
        DrillConfig(name: "ledger", tier: "critical", settings: BarmanCloudSettings(location: "s3://b/barman", server: "prod"),
                    recovery: RecoveryConfig(target: target))
    }

    func runCloud(_ walObjects: [String: [BackupObject]], target: String = "latest") async -> (DrillReport, Scratch) {
        let scratch = Scratch()
        var objects = walObjects
        objects["s3://b/barman/prod/base/20261201T210451/"] = [BackupObject(uri: "x", name: "backup.info", sizeBytes: 1, modifiedAt: Self.now)]
        var d = deps(Bucket(objects: objects, backupInfo: BarmanSamples.backupInfo))
        d.methods.register(.barmanCloud, BarmanCloudMethod(tool: CloudTool(scratch: scratch, backups: [Self.listed])))
        let report = await DrillRunner(deps: d, clock: ManualClock()).run(cloudDrill(target: target), tier: tier)
        return (report, scratch)
    }

    @Test("drill fetches plain and .gz WAL itself, .bz2 through barman-cloud-wal-restore, then replays")
    func cloudFetch() async throws {
        let (r, scratch) = await runCloud([
            Self.walRoot: [Self.wal("", "00000002.history")],
            Self.walRoot + "0000000100000000/": [
                Self.wal("0000000100000000", "000000010000000000000006"),
                Self.wal("0000000100000000", "000000010000000000000007"),
                Self.wal("0000000100000000", "000000010000000000000007.00000028.backup"),
                Self.wal("0000000100000000", "000000010000000000000008.gz"),
                Self.wal("0000000100000000", "000000010000000000000009.bz2", at: Self.now.addingTimeInterval(-60)),
            ],
            Self.walRoot + "0000000000000000/": [Self.wal("0000000000000000", "ignored")],
        ])
        #expect(r.status == .compliant, "\(r.findings)")
        #expect(r.phases.map(\.name) == ["fetch", "provision", "restore", "wal_fetch", "wal_replay", "checks"])
        #expect(scratch.log.events == [
            "barman-cloud-restore 20261201T210451", "import 00000002.history", "import 000000010000000000000007",
            "import 000000010000000000000008 (gunzip)", "barman-cloud-wal-restore 000000010000000000000009",
            "recover latest", "teardown",
        ])
        let b = try #require(r.barman)
        #expect(b.walFetchedWithTool == 1)
        #expect(b.timeSource == "backup_info", "the zoned end time of backup.info replaces the list's")
        #expect(b.endTime.map { abs($0.timeIntervalSince(Self.backupEnd) - 0.04471) < 0.0001 } == true)
        #expect(b.backupsListed == 1 && b.backupsDone == 1)
        let wal = try #require(r.wal)
        #expect(wal.segmentsFetched == 3)
        #expect(wal.bytesFetched == 10 + 10 + 10 + 20)
        #expect(wal.newestSegment == "000000010000000000000009")
        #expect(wal.timeline == 2)
        #expect(r.measured.recoveryPoint == Self.lastCommit)
        #expect(r.measured.recoveryPointSource == "wal_replay")
    }

    @Test("a missing segment fails the drill naming it, before anything is replayed")
    func cloudGap() async throws {
        let (r, scratch) = await runCloud([
            Self.walRoot + "0000000100000000/": [
                Self.wal("0000000100000000", "000000010000000000000007"),
                Self.wal("0000000100000000", "000000010000000000000009"),
            ],
        ])
        #expect(r.status == .failed)
        #expect(r.failureCode == "wal_gap")
        #expect(r.findings.contains { $0.contains("segment 000000010000000000000008 is missing") }, "\(r.findings)")
        #expect(r.wal?.firstMissingSegment == "000000010000000000000008")
        #expect(!scratch.log.events.contains { $0.hasPrefix("recover") })
        #expect(scratch.log.events.last == "teardown")
    }

    @Test("without the backup's own WAL the backup cannot be made consistent")
    func cloudStartMissing() async throws {
        let (r, _) = await runCloud([Self.walRoot + "0000000100000000/": []])
        #expect(r.status == .failed)
        #expect(r.findings.contains { $0.contains("cannot be made consistent") }, "\(r.findings)")
    }

    @Test("a time target before every backup's end is refused; one after is written as the recovery target")
    func cloudTimeTarget() async throws {
        let wal = [Self.walRoot + "0000000100000000/": [Self.wal("0000000100000000", "000000010000000000000007")]]
        let (early, _) = await runCloud(wal, target: "2026-12-01T20:00:00Z")
        #expect(early.status == .failed)
        #expect(early.failureCode == "configuration")
        let (ok, scratch) = await runCloud(wal, target: "2026-12-01T21:20:00Z")
        #expect(ok.status == .compliant, "\(ok.findings)")
        #expect(scratch.log.events.contains("recover 2026-12-01T21:20:00Z"))
        #expect(ok.wal?.targetTime == RFC3339.parse("2026-12-01T21:20:00Z"))
    }

    @Test("the restore points for retention coverage are the completed backups, at their zoned ends")
    func restorePoints() async throws {
        let scratch = Scratch()
        let failed = BarmanBackup(id: "20261130T000000", status: "FAILED")
        let tool = CloudTool(scratch: scratch, backups: [Self.listed, failed])
        let factory = Bucket(objects: ["s3://b/barman/prod/base/20261201T210451/": [BackupObject(uri: "x", name: "backup.info", sizeBytes: 1, modifiedAt: Self.now)]],
                             backupInfo: BarmanSamples.backupInfo)
        let context = deps(factory).methodContext
        let points = try await BarmanCloudMethod(tool: tool).restorePoints(cloudDrill(), context)
        #expect(points.map(\.name) == ["20261201T210451"])
        #expect(points.first?.createdAt.map { abs($0.timeIntervalSince(Self.backupEnd) - 0.04471) < 0.0001 } == true)
        let server = try await BarmanMethod(tool: ServerTool(scratch: scratch)).restorePoints(
            DrillConfig(name: "ledger", tier: "critical", settings: BarmanSettings(server: "pg")), context)
        #expect(server.map(\.name) == ["20261201T210822"])
        #expect(server.first?.createdAt == Self.backupEnd)
        #expect(server.first?.uri == "barman://pg/20261201T210822")
    }

    struct ServerTool: BarmanTool {
        let scratch: Scratch
        /// What `barman list-files --target wal` lists.
        var wal: [BackupObject] = []
        var check = BarmanEvidence.Check(tool: "barman check-backup", ok: true)
        var verify = (check: BarmanEvidence.Check(tool: "barman verify-backup", ok: true), available: true)
        func version(_ settings: BarmanSettings) async -> String? { "barman 3.4.0" }
        func listBackups(_ settings: BarmanSettings) async throws -> [BarmanBackup] {
            [BarmanBackup(id: "20261201T210822", status: "DONE", endTime: backupEnd, timeSource: "catalogue_epoch")]
        }
        func showBackup(_ settings: BarmanSettings, id: String) async throws -> BarmanBackup {
            try BarmanJSON.showBackup(BarmanSamples.showBackup, server: "pg")
        }
        func checkBackup(_ settings: BarmanSettings, id: String) async throws -> BarmanEvidence.Check { check }
        func verifyBackup(_ settings: BarmanSettings, id: String) async throws -> (check: BarmanEvidence.Check, available: Bool) { verify }
        func walFiles(_ settings: BarmanSettings, id: String) async throws -> [BackupObject] { wal }
        func prepare(drill: DrillConfig, postgres: PostgresInstallation?) async throws -> any BarmanServerScratch { scratch }
    }

    func runServer(_ configure: (inout ServerTool) -> Void) async -> (DrillReport, Scratch) {
        let scratch = Scratch()
        var tool = ServerTool(scratch: scratch)
        tool.wal = ["00000001000000000000000C", "00000001000000000000000D"].map {
            BackupObject(uri: "/barman/wals/\($0)", name: $0, sizeBytes: 16 << 20, modifiedAt: Self.now, localPath: "/barman/wals/\($0)")
        }
        configure(&tool)
        var d = deps(FakeStore(object: nil, head: []))
        d.methods.register(.barman, BarmanMethod(tool: tool))
        let drill = DrillConfig(name: "ledger", tier: "critical", settings: BarmanSettings(server: "pg"))
        return (await DrillRunner(deps: d, clock: ManualClock()).run(drill, tier: tier), scratch)
    }

    @Test func serverDrill() async throws {
        let (r, scratch) = await runServer { _ in }
        #expect(r.status == .compliant, "\(r.findings)")
        #expect(r.phases.map(\.name) == ["fetch", "verify", "provision", "restore", "wal_fetch", "wal_replay", "checks"])
        #expect(scratch.log.events == ["barman recover 20261201T210822", "copy 00000001000000000000000C", "copy 00000001000000000000000D",
                                       "recover latest", "teardown"])
        #expect(r.barman?.timeSource == "show_backup")
        #expect(r.barman?.checkBackup?.ok == true)
        #expect(r.wal?.segmentsFetched == 2)
        #expect(r.wal?.bytesFetched == Int64(32 << 20))
        #expect(r.wal?.verifiedWith == "barman verify-backup (pg_verifybackup)")
        #expect(r.barman?.location == "barman's default configuration")
    }

    @Test("a failed check-backup stops the drill before anything is restored")
    func serverCheckFails() async throws {
        let (r, scratch) = await runServer { $0.check = .init(tool: "barman check-backup", ok: false, detail: "missing WAL") }
        #expect(r.status == .failed)
        #expect(r.failureCode == "wal_gap")
        #expect(r.findings.first?.contains("missing WAL") == true)
        #expect(scratch.log.events.isEmpty)
    }

    @Test("verify-backup that cannot run is a finding; one that finds damage fails the drill")
    func serverVerify() async throws {
        let (unavailable, _) = await runServer { $0.verify = (.init(tool: "barman verify-backup", ok: false, detail: "pg_verifybackup not found"), false) }
        #expect(unavailable.status == .compliant)
        #expect(unavailable.findings.contains { $0.contains("could not check backup") })
        #expect(unavailable.wal?.verifiedWith == nil)
        let (damaged, scratch) = await runServer { $0.verify = (.init(tool: "barman verify-backup", ok: false, detail: "size mismatch"), true) }
        #expect(damaged.status == .failed)
        #expect(damaged.failureCode == "backup_corrupt")
        #expect(scratch.log.events.isEmpty)
    }
}

extension DrillDependencies {
    func withStores(_ s: any BackupStoreFactory) -> DrillDependencies {
        var d = self
        d.stores = s
        return d
    }
}
