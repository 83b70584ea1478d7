import DrillCore
import DrillLive
import DrillTesting
import Foundation
import Testing

/// What the shared pgBackRest "production" holds, written once per test process: a full backup, writes, an
/// incremental backup, then two batches a few seconds apart (a point in time falls between them).
actor PgBackRestScenario {
    static let shared = PgBackRestScenario()
    static let database = "ledger"

    struct Facts: Sendable {
        var handle: PgBackRestSource.Handle
        var full: String
        var incr: String
        /// Rows per batch, in the order written.
        var batches: [(String, Int)]
        var firstCommit: Date
        /// Between the last commit of `first` and the first of `second`.
        var target: Date
        var lastCommit: Date
    }

    private var facts: Task<Facts, any Error>?

    func get() async throws -> Facts {
        if facts == nil { facts = Task { try await Self.write() } }
        return try await facts!.value
    }

    private static func write() async throws -> Facts {
        let source = PgBackRestSource.local
        let handle = try await source.start()
        try await source.createLedger(database)
        try await source.insert(batch: "before-full", rows: 100, into: database)
        let full = try await source.backup("full")
        try await source.insert(batch: "after-full", rows: 200, into: database)
        let incr = try await source.backup("incr")
        // pgBackRest's stop time has whole seconds: the batches come after the next second has begun.
        try await Task.sleep(for: .milliseconds(1100))
        let first = try await source.insert(batch: "first", rows: 300, into: database)
        // Its own segment: a segment in the middle of the archive (walRemovedMidArchive).
        try await source.switchWAL()
        try await Task.sleep(for: .milliseconds(1300))
        let target = first.addingTimeInterval(0.6)
        let last = try await source.insert(batch: "second", rows: 400, into: database)
        try await source.switchWAL()
        return Facts(handle: handle, full: full, incr: incr,
                     batches: [("before-full", 100), ("after-full", 200), ("first", 300), ("second", 400)],
                     firstCommit: first, target: target, lastCommit: last)
    }
}

/// pgBackRest drills through the real `drill` binary, against a real cluster archiving with `pgbackrest archive-push`
/// and backed up with `pgbackrest backup`. Serialized: the drills share the fixture (and the machine has two cores).
@Suite("pgBackRest drills", .serialized, .timeLimit(.minutes(5)))
struct PgBackRestTests {
    static func drill(backup: String, target: String? = nil, checks: String = "[]", wal: String? = nil, restore: String = "") -> String {
        """
        { "version": 1, "tier": "critical",
          "backup": \(backup),
          \(target.map { #""recovery": { "target": "\#($0)" },"# } ?? "")
          \(wal.map { #""wal": \#($0),"# } ?? "")
          "database": "\(PgBackRestScenario.database)",
          "restore": { "profile": "fast"\(restore) },
          "checks": \(checks) }
        """
    }

    static func backup(stanza: String = PgBackRestSource.stanza, config: String? = nil, options: [String: String] = [:],
                       set: String? = nil) -> String {
        var members = [#""kind": "pgbackrest""#, #""stanza": "\#(stanza)""#]
        if let config { members.append(#""config": "\#(config)""#) }
        if !options.isEmpty {
            let o = options.sorted { $0.key < $1.key }.map { #""\#($0.key)": "\#($0.value)""# }.joined(separator: ", ")
            members.append(#""options": { \#(o) }"#)
        }
        if let set { members.append(#""set": "\#(set)""#) }
        return "{ " + members.joined(separator: ", ") + " }"
    }

    static func count(_ batch: String, equals n: Int) -> String {
        #"{ "name": "batch \#(batch)", "sql": "SELECT count(*) FROM ledger WHERE batch = '\#(batch)'", "expect": { "equals": \#(n) } }"#
    }

    static func checks(_ batches: [(String, Int)]) -> String {
        "[" + batches.map { count($0.0, equals: $0.1) }.joined(separator: ", ") + "]"
    }

    /// Runs `drill run <name>` and returns the exit code, the output and the archived report.
    static func run(_ name: String, _ json: String, in folder: TempFolder, environment: [String: String] = [:],
                    tiers: String = ConfigFixture.standardTiers) async throws -> (DrillBinary.Run, DrillReport?, String) {
        let config = try ConfigFixture(in: folder, tiers: tiers, drills: [name: json])
        let archive = folder.sub("reports")
        var env = environment
        env["TMPDIR"] = folder.sub("scratch")
        let r = try await DrillBinary.run(["run", name, "--config", config.directory, "--archive", archive], environment: env)
        let report = try await ReportArchive(storage: LocalArchiveStorage(root: archive)).reports().reports.first?.report
        return (r, report, archive)
    }

    /// The repository must be byte for byte what it was (the restored copy never archives into it).
    static func expectRepositoryUnchanged(_ source: PgBackRestSource, since before: [String: String],
                                          sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let after = try await source.snapshot()
        let changed = Set(after.keys).union(before.keys).filter { after[$0] != before[$0] }.sorted()
        #expect(changed.isEmpty, "the drill changed the repository: \(changed.prefix(10))", sourceLocation: sourceLocation)
    }

    @Test("latest, the repository given by options without a config file: every row, recovery point = last commit; plan shows the newest segment")
    func latestWithOptions() async throws {
        let facts = try await PgBackRestScenario.shared.get()
        let before = try await PgBackRestSource.local.snapshot()
        let folder = TempFolder("pgbr-latest")
        // A WAL window smaller than a segment: each segment is fetched after replay took the one before.
        let json = Self.drill(backup: Self.backup(options: facts.handle.options), checks: Self.checks(facts.batches),
                              wal: #"{ "connections": 2, "window_mib": 1 }"#)

        let config = try ConfigFixture(in: folder, drills: ["latest": json])
        let plan = try await DrillBinary.run(["plan", "latest", "--config", config.directory, "--archive", folder.sub("reports")])
        #expect(plan.exitCode == 0, "\(plan.output)")
        #expect(plan.stdout.contains("pgbackrest archive, newest segment"), "\(plan.output)")
        #expect(plan.stdout.contains("postgres: backup 15 (pgbackrest info); would restore with PostgreSQL 15."), "\(plan.output)")

        // A tier promising a backup interval: the report's coverage counts the repository's backups.
        let tiers = #"{ "version": 1, "tiers": { "critical": { "rto": "1h", "rpo": "5m", "backup_interval": "1h" } } }"#
        let (r, report, archive) = try await Self.run("latest", json, in: folder, environment: ["DRILL_PROGRESS_SECONDS": "0"],
                                                      tiers: tiers)
        #expect(r.exitCode == 0, "\(r.output)")
        let rep = try #require(report)
        // WAL was fetched with archive-get while the server replayed, and the replay's progress was printed.
        expectWALFetchOverlapsReplay(rep)
        printPhases("pgbackrest latest (window 1 MiB)", rep)
        expectReplayProgressLines(r.stderr)
        // The PostgreSQL of the backup's major restored it.
        let pg = try #require(rep.postgres)
        #expect(pg.backupVersion?.major == 15 && pg.backupVersionSource == "pgbackrest info" && pg.rule == .sameMajor)
        #expect(pg.version.major == 15)
        // The archived JSON carries the pgbackrest block and re-encodes to the same bytes.
        let file = try #require(try FileManager.default.subpathsOfDirectory(atPath: archive).first { $0.hasSuffix(".json") && !$0.hasPrefix("chain") })
        let stored = try Data(contentsOf: URL(fileURLWithPath: (archive as NSString).appendingPathComponent(file)))
        #expect(String(decoding: try rep.jsonData(), as: UTF8.self) == String(decoding: stored, as: UTF8.self))
        let raw = try #require(try JSONSerialization.jsonObject(with: stored) as? [String: Any])
        #expect(raw["method"] as? String == "pgbackrest")
        #expect((raw["pgbackrest"] as? [String: Any])?["archive_id"] as? String == "15-1", "\(raw["pgbackrest"] ?? "no block")")
        #expect(rep.status == .compliant, "findings: \(rep.findings)")
        #expect(rep.method == .pgbackrest)
        #expect(rep.checks.map(\.observed) == ["100", "200", "300", "400"])
        #expect(rep.measured.recoveryPointSource == "wal_replay")
        let rp = try #require(rep.measured.recoveryPoint)
        #expect(abs(rp.timeIntervalSince(facts.lastCommit)) < 1, "recovery point \(rp) vs last commit \(facts.lastCommit)")
        #expect(rep.phases.map(\.name) == ["fetch", "verify", "provision", "restore", "wal_fetch", "wal_replay", "checks"])
        #expect(rep.phases.allSatisfy { $0.ok })
        #expect(rep.backup.name == facts.incr)
        #expect(rep.backup.format == "pgbackrest incr")
        let e = try #require(rep.pgbackrest)
        #expect(e.label == facts.incr && e.type == "incr")
        #expect(e.references?.contains(facts.full) == true)
        #expect(e.stanza == PgBackRestSource.stanza && e.repo == 1 && e.config == nil)
        #expect(e.toolVersion?.hasPrefix("pgBackRest ") == true)
        #expect(e.backupVersion != nil && e.walStart != nil && e.walStop != nil && e.archiveID != nil)
        #expect(e.backupStoppedAt.map { $0 < facts.firstCommit } == true)
        #expect(e.verify?.status == "ok" && e.verify?.backupStatus == "valid", "\(String(describing: e.verify))")
        #expect(e.target == "latest" && e.targetTime == nil)
        #expect(e.segmentsFetched >= 1 && e.bytesFetched >= Int64(e.segmentsFetched) * 16 * 1024 * 1024)
        #expect(e.firstMissingSegment == nil)
        #expect(e.timeline.map { $0 >= 2 } == true, "a promoted restore is on a new timeline")
        #expect(rep.coverage?.count == 2 && rep.coverage?.findings == [], "\(String(describing: rep.coverage))")
        #expect(rep.coverage?.newest.map { abs($0.timeIntervalSince(e.backupStoppedAt ?? .distantPast)) < 0.001 } == true)
        #expect(rep.scratch.removed)
        try await Self.expectRepositoryUnchanged(.local, since: before)
        expectNothingLeft(folder)
    }

    @Test("a point in time between two batches, repository from the config file: the later batch is absent")
    func pointInTimeWithConfig() async throws {
        let facts = try await PgBackRestScenario.shared.get()
        let before = try await PgBackRestSource.local.snapshot()
        let folder = TempFolder("pgbr-pitr")
        let target = RFC3339.format(facts.target, fractional: true)
        let expected = facts.batches.map { ($0.0, $0.0 == "second" ? 0 : $0.1) }
        let json = Self.drill(backup: Self.backup(config: facts.handle.config), target: target, checks: Self.checks(expected))
        let (r, report, _) = try await Self.run("pitr", json, in: folder)
        #expect(r.exitCode == 0, "\(r.output)")
        let rep = try #require(report)
        #expect(rep.status == .compliant, "findings: \(rep.findings)")
        #expect(rep.checks.map(\.observed) == ["100", "200", "300", "0"])
        let e = try #require(rep.pgbackrest)
        #expect(e.config == facts.handle.config)
        #expect(e.label == facts.incr, "the newest backup that ended before the target")
        #expect(e.target == target)
        #expect(e.targetTime.map { abs($0.timeIntervalSince(facts.target)) < 0.001 } == true)
        let rp = try #require(rep.measured.recoveryPoint)
        #expect(abs(rp.timeIntervalSince(facts.firstCommit)) < 1, "recovery point \(rp) vs \(facts.firstCommit)")
        let rpo = try #require(rep.measured.rpoSeconds)
        #expect(rpo >= 0 && rpo < 2, "rpo \(rpo)")
        try await Self.expectRepositoryUnchanged(.local, since: before)
        expectNothingLeft(folder)
    }

    @Test("a target past the archived WAL: the drill fails with exit 3 and says so")
    func targetPastTheArchive() async throws {
        let facts = try await PgBackRestScenario.shared.get()
        let before = try await PgBackRestSource.local.snapshot()
        let folder = TempFolder("pgbr-future")
        let target = RFC3339.format(facts.lastCommit.addingTimeInterval(3600), fractional: true)
        let (r, report, _) = try await Self.run("future", Self.drill(backup: Self.backup(options: facts.handle.options), target: target),
                                                in: folder)
        #expect(r.exitCode == 3, "\(r.output)")
        let rep = try #require(report)
        #expect(rep.failureCode == "recovery_failed")
        #expect(rep.findings.contains { $0.contains("past the end of the archived WAL") }, "findings: \(rep.findings)")
        #expect(rep.phases.contains { $0.name == "wal_replay" && !$0.ok })
        #expect(rep.pgbackrest?.label == facts.incr)
        try await Self.expectRepositoryUnchanged(.local, since: before)
        expectNothingLeft(folder)
    }

    @Test("a WAL segment removed from the repository after drill listed it: the drill fails naming it, and replay stopped before it")
    func walRemovedMidArchive() async throws {
        let facts = try await PgBackRestScenario.shared.get()
        let folder = TempFolder("pgbr-gap")
        let repo = try await PgBackRestSource.local.repositoryCopy(in: folder)
        let info = try await PgBackRestSource.local.info()
        let incr = try #require(info.backups(repo: 1).first { $0.label == facts.incr })
        let start = try #require(incr.walStart)
        // The archive's segments from the backup's start: the one before the newest is in the middle.
        let archiveDir = (repo as NSString).appendingPathComponent("archive/\(PgBackRestSource.stanza)/15-1")
        var segments: [(name: String, path: String)] = []
        for rel in try FileManager.default.subpathsOfDirectory(atPath: archiveDir) where rel.count > 17 {
            let file = (rel as NSString).lastPathComponent
            let name = String(file.prefix(24))
            if WALSegment.looksLikeName(name), name >= start, file.dropFirst(24).hasPrefix("-") {
                segments.append((name, (archiveDir as NSString).appendingPathComponent(rel)))
            }
        }
        segments.sort { $0.name < $1.name }
        try #require(segments.count >= 3, "\(segments.map(\.name))")
        let missing = segments[segments.count - 2]
        // pgBackRest itself, with the segment deleted from the repository as soon as repo-ls has listed it.
        let real = try #require(PgBackRestCLI.discover(environment: ProcessInfo.processInfo.environment))
        let wrapper = folder.file("pgbackrest")
        try """
            #!/bin/sh
            '\(real)' "$@"; rc=$?
            for a in "$@"; do [ "$a" = repo-ls ] && rm -f '\(missing.path)'; done
            exit $rc

            """.write(toFile: wrapper, atomically: true, encoding: .utf8)
        chmod(wrapper, 0o755)
        var options = facts.handle.options
        options["repo1-path"] = repo
        let json = Self.drill(backup: Self.backup(options: options), wal: #"{ "connections": 2, "window_mib": 1 }"#)
        let (r, report, _) = try await Self.run("gap", json, in: folder, environment: ["DRILL_PGBACKREST": wrapper])
        #expect(r.exitCode == 3, "\(r.output)")
        #expect(!FileManager.default.fileExists(atPath: missing.path), "the wrapper removed it")
        let rep = try #require(report)
        expectGapDuringReplay(rep, missing: missing.name, firstMissing: rep.pgbackrest?.firstMissingSegment, replayedTo: rep.pgbackrest?.replayedTo)
        #expect(rep.scratch.removed)
        expectNothingLeft(folder)
    }

    @Test("restore.postgres naming PostgreSQL 18 for a PostgreSQL 15 backup: the drill fails before provisioning, naming both")
    func wrongMajor() async throws {
        let facts = try await PgBackRestScenario.shared.get()
        let bin = try PostgreSQL18.binaries().directory
        let folder = TempFolder("pgbr-pg18")
        let json = Self.drill(backup: Self.backup(options: facts.handle.options), restore: #", "postgres": "\#(bin)""#)
        let (r, report, _) = try await Self.run("pg18", json, in: folder)
        #expect(r.exitCode == 3, "\(r.output)")
        let rep = try #require(report)
        #expect(rep.failureCode == "no_postgres")
        #expect(rep.findings.contains { $0.contains("PostgreSQL 15") && $0.contains("18.") && $0.contains(bin) }, "findings: \(rep.findings)")
        #expect(rep.phases.map(\.name) == ["fetch"], "nothing verified or provisioned: \(rep.phases.map(\.name))")
        #expect(rep.postgres == nil)
        expectNothingLeft(folder)
    }

    @Test("a damaged backup file: pgbackrest verify names it, the drill fails with exit 3 before restoring")
    func damagedBackup() async throws {
        let facts = try await PgBackRestScenario.shared.get()
        let before = try await PgBackRestSource.local.snapshot()
        let folder = TempFolder("pgbr-bad")
        // The newest backup is incremental: its unchanged files live in the full backup, which is the one damaged.
        let (copy, file) = try await PgBackRestSource.local.damagedCopy(of: facts.full, in: folder)
        let json = Self.drill(backup: Self.backup(options: ["repo1-path": copy]))
        let (r, report, _) = try await Self.run("damaged", json, in: folder)
        #expect(r.exitCode == 3, "\(r.output)")
        let rep = try #require(report)
        #expect(rep.status == .failed)
        #expect(rep.failureCode == "backup_corrupt")
        #expect(rep.findings.contains { $0.contains("pgbackrest verify") && $0.contains(file) && $0.contains("checksum") },
                "findings: \(rep.findings), damaged \(file)")
        #expect(rep.phases.contains { $0.name == "verify" && !$0.ok })
        #expect(!rep.phases.contains { $0.name == "restore" })
        let e = try #require(rep.pgbackrest)
        #expect(e.verify?.status == "error" && e.verify?.damaged == [file])
        try await Self.expectRepositoryUnchanged(.local, since: before)
        expectNothingLeft(folder)
    }

    @Test("a missing stanza fails with exit 3 and says so; a secret in the drill file is refused by validate (exit 2)")
    func missingStanzaAndSecret() async throws {
        let facts = try await PgBackRestScenario.shared.get()
        let folder = TempFolder("pgbr-nostanza")
        let (r, report, _) = try await Self.run("nostanza", Self.drill(backup: Self.backup(stanza: "nope", options: facts.handle.options)),
                                                in: folder)
        #expect(r.exitCode == 3, "\(r.output)")
        let rep = try #require(report)
        #expect(rep.failureCode == "backup_not_found")
        #expect(rep.findings.contains { $0.contains("no stanza nope") && $0.contains("missing stanza path") }, "findings: \(rep.findings)")
        #expect(rep.phases.map(\.name) == ["fetch"])
        expectNothingLeft(folder)

        let secret = "s3cr3t-\(UUID().uuidString.prefix(8))"
        var options = facts.handle.options
        options["repo1-s3-key-secret"] = secret
        let secretFolder = TempFolder("pgbr-secret")
        let bad = try ConfigFixture(in: secretFolder, drills: ["leaky": Self.drill(backup: Self.backup(options: options))])
        let v = try await DrillBinary.run(["validate", "--config", bad.directory])
        #expect(v.exitCode == 2, "\(v.output)")
        #expect(v.output.contains("backup.options.repo1-s3-key-secret") && v.output.contains("PGBACKREST_REPO1_S3_KEY_SECRET"), "\(v.output)")
        #expect(!v.output.contains(secret))
    }

    @Test("a repo1-type=s3 repository on moto behind stunnel's TLS: credentials by environment only, a drill restores it")
    func s3Repository() async throws {
        let source = PgBackRestSource.s3
        let h = try await source.start()
        try await source.createLedger(PgBackRestScenario.database)
        try await source.insert(batch: "s3-before", rows: 120, into: PgBackRestScenario.database)
        let label = try await source.backup("full")
        let last = try await source.insert(batch: "s3-after", rows: 80, into: PgBackRestScenario.database)
        try await source.switchWAL()
        let before = try await source.snapshot()
        #expect(before.keys.contains { $0.contains("backup/\(PgBackRestSource.stanza)/\(label)/") }, "\(before.keys.sorted().prefix(5))")

        let folder = TempFolder("pgbr-s3")
        let secret = try #require(h.moto?.secretAccessKey)
        // process-max: verify and restore fetch from moto in parallel.
        var options = h.options
        options["process-max"] = "4"
        let json = Self.drill(backup: Self.backup(options: options), checks: Self.checks([("s3-before", 120), ("s3-after", 80)]))
        #expect(!json.contains(secret))
        let (r, report, archive) = try await Self.run("s3", json, in: folder, environment: h.environment)
        #expect(r.exitCode == 0, "\(r.output)")
        let rep = try #require(report)
        #expect(rep.status == .compliant, "findings: \(rep.findings)")
        #expect(rep.checks.map(\.observed) == ["120", "80"])
        #expect(rep.pgbackrest?.label == label && rep.pgbackrest?.type == "full")
        #expect(rep.pgbackrest?.verify?.status == "ok")
        let rp = try #require(rep.measured.recoveryPoint)
        #expect(abs(rp.timeIntervalSince(last)) < 1)
        #expect(!r.output.contains(secret))
        for file in try FileManager.default.subpathsOfDirectory(atPath: archive) {
            let text = (try? String(contentsOfFile: (archive as NSString).appendingPathComponent(file), encoding: .utf8)) ?? ""
            #expect(!text.contains(secret), "\(file) shows the secret")
        }

        // A wrong secret fails at once, clearly, and is never shown.
        let wrong = "wrong-\(UUID().uuidString.prefix(12))"
        var env = h.environment
        env["PGBACKREST_REPO1_S3_KEY_SECRET"] = wrong
        let (w, wrongReport, _) = try await Self.run("s3wrong", json, in: TempFolder("pgbr-s3w"), environment: env)
        #expect(w.exitCode == 3, "\(w.output)")
        #expect(wrongReport?.failureCode == "backup_unreadable")
        #expect(wrongReport?.findings.contains { $0.contains("403") } == true, "\(wrongReport?.findings ?? [])")
        #expect(!w.output.contains(wrong) && !w.output.contains(secret))
        #expect(wrongReport.map { !"\($0)".contains(wrong) } == true)

        try await Self.expectRepositoryUnchanged(source, since: before)
        expectNothingLeft(folder)
    }
}
