import DrillCore
import DrillLive
import DrillTesting
import Foundation
import Testing

@Suite("Incremental base backups (PostgreSQL 17+): the chain is combined with pg_combinebackup, then recovered",
       .serialized, .timeLimit(.minutes(8)))
struct IncrementalBackupTests {
    /// A PostgreSQL 18 source of this suite's own: the shared one (`PostgreSQL18.source`) is written to by suites that
    /// run at the same time, and their commits archived while this suite's drill runs would move the recovery point
    /// away from the last batch this suite wrote.
    static let ownSource = PhysicalSource(binaries: { try PostgreSQL18.binaries() }, settings: [("summarize_wal", "on")])
    let source = IncrementalBackupTests.ownSource

    /// A full backup and two incrementals of a PostgreSQL 18 source under `<folder>/backups` (`full`, `incr1`,
    /// `incr2`, plain format, each labelled with its name), with a batch of rows written before each incremental and
    /// one after the last. Returns the location, the WAL archive and the batches' tag.
    func chain(in folder: TempFolder) async throws -> (backups: String, wal: String, tag: String) {
        let backups = folder.sub("backups")
        func dir(_ name: String) -> String { (backups as NSString).appendingPathComponent(name) }
        try await source.createLedger("pitr")
        let tag = "I\(UUID().uuidString.prefix(6))"
        try await source.baseBackup(into: dir("full"), ["-Fp", "-l", "full"])
        try await source.insert(batch: tag + "-1", rows: 100, into: "pitr")
        try await source.baseBackup(into: dir("incr1"), ["-Fp", "-l", "incr1", "--incremental=\(dir("full"))/backup_manifest"])
        try await source.insert(batch: tag + "-2", rows: 100, into: "pitr")
        try await source.baseBackup(into: dir("incr2"), ["-Fp", "-l", "incr2", "--incremental=\(dir("incr1"))/backup_manifest"])
        // STOP TIME has whole seconds: write the last batch after the next second began, so it is replayed from WAL.
        try await Task.sleep(for: .milliseconds(1100))
        try await source.insert(batch: tag + "-3", rows: 100, into: "pitr")
        try await source.switchWAL()
        let (_, archive) = try await source.start()
        return (backups, archive, tag)
    }

    static func checks(_ tag: String) -> String {
        "[" + (1...3).map { PhysicalRestoreTests.count("\(tag)-\($0)", equals: 100) }.joined(separator: ", ") + "]"
    }

    @Test("full + two incrementals recover to the last commit with PostgreSQL 18")
    func chainRecovers() async throws {
        let folder = TempFolder("incr")
        let (backups, wal, tag) = try await chain(in: folder)
        let last = try await source.lastRowTime(batch: tag + "-3", in: "pitr")
        let report = try await runDrill(PhysicalRestoreTests.drill(backups: backups, wal: wal, checks: Self.checks(tag)),
                                        name: "pitr", in: folder, environment: try VersionsTests.both())
        #expect(report.status == .compliant, "findings: \(report.findings)")
        #expect(report.checks.map(\.observed) == ["100", "100", "100"])
        #expect(report.wal?.incrementalChain == ["full", "incr1", "incr2"])
        #expect(report.phases.map(\.name).contains("combine"))
        #expect(report.postgres?.version.major == 18)
        #expect(report.wal?.verifiedWith?.contains("18") == true, "verified with \(report.wal?.verifiedWith ?? "nothing")")
        let rp = try #require(report.measured.recoveryPoint)
        #expect(abs(rp.timeIntervalSince(last)) < 1, "recovery point \(rp), last commit \(last)")
        // The backups are read, never changed: each folder still holds its own label.
        for name in ["full", "incr1", "incr2"] {
            let label = try String(contentsOfFile: "\(backups)/\(name)/backup_label", encoding: .utf8)
            #expect(label.contains("LABEL: \(name)"))
        }
        expectNothingLeft(folder)
    }

    @Test("with the middle incremental removed the drill fails before provisioning and names it")
    func brokenChain() async throws {
        let folder = TempFolder("incr-gap")
        let (backups, wal, tag) = try await chain(in: folder)
        try FileManager.default.removeItem(atPath: (backups as NSString).appendingPathComponent("incr1"))
        let report = try await runDrill(PhysicalRestoreTests.drill(backups: backups, wal: wal, checks: Self.checks(tag)),
                                        name: "pitr", in: folder, environment: try VersionsTests.both())
        #expect(report.status == .failed)
        #expect(report.failureCode == "backup_not_found")
        let finding = try #require(report.findings.first { $0.contains("incremental chain is broken") }, "findings: \(report.findings)")
        #expect(finding.contains("incr2"))
        #expect(finding.contains("\"incr1\""), "the missing backup is named by its label: \(finding)")
        #expect(!report.phases.contains { $0.name == "provision" || $0.name == "combine" })
        expectNothingLeft(folder)
    }

    @Test("a tar-format incremental (pg_combinebackup reads plain folders only) fails clearly, with nothing left")
    func tarIncremental() async throws {
        let folder = TempFolder("incr-tar")
        let backups = folder.sub("backups")
        try await source.createLedger("pitr")
        try await source.baseBackup(into: folder.sub("full"), ["-Fp", "-l", "full"])
        try await source.insert(batch: "T-1", rows: 10, into: "pitr")
        try await source.baseBackup(into: (backups as NSString).appendingPathComponent("incr1"),
                                    ["-Ft", "-l", "incr1", "--incremental=\(folder.sub("full"))/backup_manifest"])
        // A write after the backup, so the switch closes a segment (right after a backup it would be a no-op).
        try await source.insert(batch: "T-2", rows: 10, into: "pitr")
        try await source.switchWAL()
        let (_, wal) = try await source.start()
        let report = try await runDrill(PhysicalRestoreTests.drill(backups: backups, wal: wal, checks: "[]"),
                                        name: "pitr", in: folder, environment: try VersionsTests.both())
        #expect(report.status == .failed)
        #expect(report.failureCode == "unsupported")
        let finding = try #require(report.findings.first { $0.contains("incremental") }, "findings: \(report.findings)")
        #expect(finding.contains("tar format") && finding.contains("-Fp"), "\(finding)")
        #expect(!report.phases.contains { $0.name == "wal_replay" })
        expectNothingLeft(folder)
    }
}
