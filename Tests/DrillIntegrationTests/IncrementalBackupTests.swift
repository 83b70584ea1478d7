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
    /// The same with PostgreSQL 17 (Debian 13's, installed privately by the test script): its pg_combinebackup has
    /// no `--link`.
    static let ownSource17 = PhysicalSource(binaries: { try PostgreSQL17.binaries() }, settings: [("summarize_wal", "on")])
    let source = IncrementalBackupTests.ownSource

    /// 15, 17 and 18 installed: drill must choose the backup's major.
    static func all() throws -> [String: String] {
        ["DRILL_PG_BINDIR": "\(VersionsTests.pg15):\(try PostgreSQL17.binaries().directory):\(try PostgreSQL18.binaries().directory)"]
    }

    /// A full backup and two incrementals of a PostgreSQL 18 source under `<folder>/backups` (`full`, `incr1`,
    /// `incr2`, each labelled with its name, in `formats`' pg_basebackup formats), with a batch of rows written before
    /// each incremental and one after the last. Returns the location, the WAL archive and the batches' tag.
    func chain(in folder: TempFolder, formats: [[String]] = Self.plain,
               source: PhysicalSource = Self.ownSource) async throws -> (backups: String, wal: String, tag: String) {
        let backups = folder.sub("backups")
        func dir(_ name: String) -> String { (backups as NSString).appendingPathComponent(name) }
        try await source.createLedger("pitr")
        let tag = "I\(UUID().uuidString.prefix(6))"
        try await source.baseBackup(into: dir("full"), formats[0] + ["-l", "full"])
        try await source.insert(batch: tag + "-1", rows: 100, into: "pitr")
        try await source.baseBackup(into: dir("incr1"), formats[1] + ["-l", "incr1", "--incremental=\(dir("full"))/backup_manifest"])
        try await source.insert(batch: tag + "-2", rows: 100, into: "pitr")
        try await source.baseBackup(into: dir("incr2"), formats[2] + ["-l", "incr2", "--incremental=\(dir("incr1"))/backup_manifest"])
        // STOP TIME has whole seconds: write the last batch after the next second began, so it is replayed from WAL.
        try await Task.sleep(for: .milliseconds(1100))
        try await source.insert(batch: tag + "-3", rows: 100, into: "pitr")
        try await source.switchWAL()
        let (_, archive) = try await source.start()
        return (backups, archive, tag)
    }

    static let plain = [["-Fp"], ["-Fp"], ["-Fp"]]
    /// pg_combinebackup reads plain folders only: drill extracts tar-format backups first (gzip or not), and a chain
    /// may mix both formats.
    static let tarAndPlain = [["-Ft", "-z"], ["-Fp"], ["-Ft"]]

    static func checks(_ tag: String) -> String {
        "[" + (1...3).map { PhysicalRestoreTests.count("\(tag)-\($0)", equals: 100) }.joined(separator: ", ") + "]"
    }

    @Test("full + two incrementals (plain, or tar and plain mixed) recover to the last commit with the backup's major (17 or 18 of 15, 17, 18)",
          arguments: [(plain, 18), (tarAndPlain, 18), (tarAndPlain, 17)])
    func chainRecovers(formats: [[String]], major: Int) async throws {
        let folder = TempFolder("incr")
        let source = major == 17 ? Self.ownSource17 : Self.ownSource
        let (backups, wal, tag) = try await chain(in: folder, formats: formats, source: source)
        let before = try treeListing(backups)
        let last = try await source.lastRowTime(batch: tag + "-3", in: "pitr")
        let json = PhysicalRestoreTests.drill(backups: backups, wal: wal, checks: Self.checks(tag))
        let plan = try await Self.plan(json, in: folder)
        #expect(plan.stdout.contains("chain:  full → incr1 → incr2 (incremental"), "\(plan.output)")
        #expect(plan.stdout.contains("postgres: backup \(major) (PG_VERSION); would restore with PostgreSQL \(major)."), "\(plan.output)")
        let report = try await runDrill(json, name: "pitr", in: folder, environment: try Self.all())
        #expect(report.status == .compliant, "findings: \(report.findings)")
        #expect(report.checks.map(\.observed) == ["100", "100", "100"])
        #expect(report.wal?.incrementalChain == ["full", "incr1", "incr2"])
        #expect(report.phases.map(\.name).contains("combine"))
        #expect(report.postgres?.version.major == major)
        #expect(report.wal?.verifiedWith?.contains(" \(major).") == true, "verified with \(report.wal?.verifiedWith ?? "nothing")")
        let rp = try #require(report.measured.recoveryPoint)
        #expect(abs(rp.timeIntervalSince(last)) < 1, "recovery point \(rp), last commit \(last)")
        // The backups are read, never changed.
        #expect(try treeListing(backups) == before)
        expectNothingLeft(folder)
    }

    @Test("with the middle incremental removed the drill fails before provisioning and names it")
    func brokenChain() async throws {
        let folder = TempFolder("incr-gap")
        let (backups, wal, tag) = try await chain(in: folder)
        try FileManager.default.removeItem(atPath: (backups as NSString).appendingPathComponent("incr1"))
        let json = PhysicalRestoreTests.drill(backups: backups, wal: wal, checks: Self.checks(tag))
        // drill plan resolves the chain as a restore would: the broken link is its problem.
        let plan = try await Self.plan(json, in: folder)
        #expect(plan.stdout.contains("backup: PROBLEM — ") && plan.stdout.contains("incremental chain is broken"), "\(plan.output)")
        let report = try await runDrill(json, name: "pitr", in: folder, environment: try VersionsTests.both())
        #expect(report.status == .failed)
        #expect(report.failureCode == "backup_not_found")
        let finding = try #require(report.findings.first { $0.contains("incremental chain is broken") }, "findings: \(report.findings)")
        #expect(finding.contains("incr2"))
        #expect(finding.contains("\"incr1\""), "the missing backup is named by its label: \(finding)")
        #expect(!report.phases.contains { $0.name == "provision" || $0.name == "combine" })
        expectNothingLeft(folder)
    }

    /// `drill plan` of the drill file `json` (as `pitr`), with 15, 17 and 18 installed.
    static func plan(_ json: String, in folder: TempFolder) async throws -> DrillBinary.Run {
        let config = try ConfigFixture(in: folder, drills: ["pitr": json])
        return try await DrillBinary.run(["plan", "--config", config.directory, "--archive", folder.sub("archive")], environment: try all())
    }

    /// Every file under `path` with its size and modification time, sorted.
    func treeListing(_ path: String) throws -> [String] {
        try FileManager.default.subpathsOfDirectory(atPath: path).sorted().map { rel in
            let a = try FileManager.default.attributesOfItem(atPath: (path as NSString).appendingPathComponent(rel))
            return "\(rel) \(a[.size] ?? "") \(a[.modificationDate] ?? "")"
        }
    }
}
