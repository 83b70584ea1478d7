import DrillCore
import DrillLive
import DrillTesting
import Foundation
import Testing

/// The `drill` executable as a user runs it: exit codes, messages, reports in the archive, signals.
@Suite("The drill command", .timeLimit(.minutes(5)))
struct CommandLineTests {
    @Test("exit 0 when compliant, 1 when a check fails, 3 when the backup is corrupt; the worst wins")
    func exitCodes() async throws {
        let folder = TempFolder("exit")
        let good = folder.sub("good"), bad = folder.sub("bad")
        _ = try copy(try await Shop.shared.dump(.custom), into: good, as: "shop.dump")
        let corrupt = try copy(try await Shop.shared.dump(.custom), into: bad, as: "shop.dump")
        try ArchiveFixture.truncate(corrupt, keeping: 0.5)
        let failing = #"[ { "name": "too many accounts", "sql": "SELECT count(*) FROM pgbench_accounts", "expect": { "max": 5 } } ]"#
        let config = try ConfigFixture(in: folder, drills: [
            "ok": ConfigFixture.drill(tier: "critical", location: good, checks: ConfigFixture.shopChecks(orders: Shop.orders)),
            "checkfails": ConfigFixture.drill(tier: "important", location: good, checks: failing),
            "broken": ConfigFixture.drill(tier: "standard", location: bad),
        ])
        let env = ["TMPDIR": folder.sub("scratch")]
        let archive = folder.sub("archive")
        let ok = try await DrillBinary.run(["run", "critical", "--config", config.directory, "--archive", archive], environment: env)
        #expect(ok.exitCode == 0, "\(ok.output)")
        #expect(ok.stdout.contains("ok [critical]: COMPLIANT"))
        let nc = try await DrillBinary.run(["run", "checkfails", "--config", config.directory, "--archive", archive], environment: env)
        #expect(nc.exitCode == 1, "\(nc.output)")
        #expect(nc.stdout.contains("NON-COMPLIANT"))
        let failed = try await DrillBinary.run(["run", "broken", "--config", config.directory, "--archive", archive], environment: env)
        #expect(failed.exitCode == 3, "\(failed.output)")
        #expect(failed.stdout.contains("FAILED"))
        let all = try await DrillBinary.run(["run", "--all", "--config", config.directory, "--archive", archive], environment: env)
        #expect(all.exitCode == 3)
        // Every run wrote a JSON and a Markdown report.
        let reports = try await ReportArchive(storage: LocalArchiveStorage(root: archive)).reports()
        #expect(reports.reports.count == 6)
        #expect(reports.unreadable.isEmpty)
        let broken = try #require(reports.reports.first { $0.report.drill == "broken" }?.report)
        #expect(broken.status == .failed)
        #expect(broken.findings.contains { $0.contains("pg_restore failed") })
        let markdownCount = try FileManager.default.subpathsOfDirectory(atPath: archive).filter { $0.hasSuffix(".md") }.count
        #expect(markdownCount == 6)
        expectNothingLeft(folder)
    }

    @Test("--stats prints the runner's CPU and where it went; the report tells pg_restore's own run time")
    func statsAndToolTime() async throws {
        let folder = TempFolder("stats")
        let backups = folder.sub("backups")
        _ = try copy(try await Shop.shared.dump(.custom), into: backups, as: "shop.dump")
        let config = try ConfigFixture(in: folder, drills: ["shop": ConfigFixture.drill(location: backups)])
        let archive = folder.sub("archive")
        let r = try await DrillBinary.run(["run", "shop", "--config", config.directory, "--archive", archive, "--stats"],
                                          environment: ["TMPDIR": folder.sub("scratch")])
        #expect(r.exitCode == 0, "\(r.output)")
        let line = try #require(r.stderr.split(separator: "\n").last { $0.hasPrefix("drill-stats: ") })
        let fields = Dictionary(line.dropFirst("drill-stats: ".count).split(separator: " ").compactMap { kv -> (String, String)? in
            let p = kv.split(separator: "=", maxSplits: 1)
            return p.count == 2 ? (String(p[0]), String(p[1])) : nil
        }, uniquingKeysWith: { a, _ in a })
        let total = try #require(Double(fields["cpu_user_s"] ?? "")).advanced(by: try #require(Double(fields["cpu_sys_s"] ?? "")))
        #expect(total > 0)
        #expect(try #require(Int(fields["max_rss_kib"] ?? "")) > 1024)
        // Cumulative CPU at the end of each phase, in order, never decreasing and never above the total.
        let marks = try #require(fields["cpu_at"]).split(separator: ",").map { $0.split(separator: ":") }
        #expect(Set(marks.map { String($0[0]) }) == ["fetch", "provision", "restore", "checks", "teardown"])
        let values = marks.compactMap { Double($0[1]) }
        #expect(values == values.sorted() && values.count == 5 && (values.last ?? .infinity) <= total + 0.001)
        let report = try #require(try await ReportArchive(storage: LocalArchiveStorage(root: archive)).reports().reports.first?.report)
        let tool = try #require(report.restore.toolSeconds)
        let phase = try #require(report.phases.first { $0.name == "restore" }?.seconds)
        #expect(tool > 0 && tool <= phase, "pg_restore ran \(tool) s within a restore phase of \(phase) s")
        expectNothingLeft(folder)
    }

    @Test("validate lists each drill with its method named once")
    func validateListing() async throws {
        let folder = TempFolder("validcfg")
        let config = try ConfigFixture(in: folder, drills: [
            "prod": #"{ "version": 1, "tier": "critical", "backup": { "kind": "pgbackrest", "stanza": "prod" }, "database": "shop" }"#,
            "shop": #"{ "version": 1, "tier": "standard", "backup": { "location": "/srv/backups/shop" } }"#,
        ])
        let r = try await DrillBinary.run(["validate", "--config", config.directory])
        #expect(r.exitCode == 0, "\(r.stderr)")
        #expect(r.stdout.contains("prod: tier critical, pgbackrest stanza prod, repo 1, target embedded"), "\(r.stdout)")
        #expect(r.stdout.contains("shop: tier standard, dump /srv/backups/shop, target embedded"), "\(r.stdout)")
        #expect(!r.stdout.contains("pgbackrest pgbackrest"), "\(r.stdout)")
    }

    @Test("a malformed config exits 2 and names the file and the key")
    func malformedConfig() async throws {
        let folder = TempFolder("badcfg")
        let config = try ConfigFixture(in: folder, drills: [
            "shop": """
                { "version": 1, "tier": "critical", "backup": { "location": "/x", "formt": "custom" },
                  "restore": { "jobs": "two" }, "checks": [ { "name": "c", "sql": "SELECT 1", "expect": { "within": "soon" } } ] }
                """,
            "orders": #"{ "version": 2, "tier": "gold", "backup": { "location": "/y" } }"#,
            "broken": #"{ "version": 1, "tier": "#,
        ])
        let r = try await DrillBinary.run(["validate", "--config", config.directory])
        #expect(r.exitCode == 2)
        for expected in ["drills/shop.json: backup.formt: unknown key", "drills/shop.json: restore.jobs:",
                         "drills/shop.json: checks[0].expect.within:", "drills/orders.json: version: unsupported version 2",
                         "drills/orders.json: tier: unknown tier \"gold\"", "drills/broken.json: not valid JSON"] {
            #expect(r.stderr.contains(expected), "missing \(expected) in:\n\(r.stderr)")
        }
        let run = try await DrillBinary.run(["run", "--all", "--config", config.directory, "--archive", folder.sub("archive")])
        #expect(run.exitCode == 2)
        #expect(folder.entries("archive").isEmpty, "nothing may run with a bad config")
        let unknown = try await DrillBinary.run(["run", "nosuchdrill", "--config", folder.sub("config")])
        #expect(unknown.exitCode == 2)
    }

    @Test("SIGINT during the restore writes an aborted report, removes the scratch cluster and exits 130")
    func interruptDuringRestore() async throws {
        let folder = TempFolder("sigint")
        let backups = folder.sub("backups")
        // A real plain dump that takes a minute to restore: a pg_sleep is spliced in before its last line.
        let sql = try String(contentsOfFile: try await Shop.shared.dump(.plain), encoding: .utf8)
        let marker = "-- PostgreSQL database dump complete"
        let slow = sql.replacingOccurrences(of: marker, with: "SELECT pg_sleep(60);\n\n" + marker)
        try slow.write(toFile: (backups as NSString).appendingPathComponent("shop.sql"), atomically: true, encoding: .utf8)
        let config = try ConfigFixture(in: folder, drills: ["shop": ConfigFixture.drill(location: backups)])
        let archive = folder.sub("archive")
        let scratch = folder.sub("scratch")
        let child = try DrillBinary.start(["run", "shop", "--config", config.directory, "--archive", archive],
                                          environment: ["TMPDIR": scratch])
        let stderr = try #require(child.stderrPipe)
        let sawRestore = await StreamWatcher.waitFor("restore: started", in: stderr, timeout: 60)
        #expect(sawRestore)
        try await Task.sleep(for: .milliseconds(500))
        #expect(!Leftovers.scratchEntries(in: scratch).isEmpty, "the scratch cluster should exist mid-restore")
        child.signal(SIGINT)
        let result = await child.wait()
        #expect(result.exitCode == 130, "\(result.stdout)")
        let reports = try await ReportArchive(storage: LocalArchiveStorage(root: archive)).reports().reports
        let report = try #require(reports.first?.report)
        #expect(report.status == .aborted)
        #expect(report.scratch.removed)
        #expect(report.findings.contains { $0.contains("interrupted") })
        expectNothingLeft(folder)
    }
}

@Suite("drill when its output goes away", .timeLimit(.minutes(3)))
struct ClosedOutputTests {
    @Test("a closed stdout and stderr (drill run … | head, a dropped session) neither crash the run nor leave the cluster")
    func closedPipes() async throws {
        let folder = TempFolder("epipe")
        let backups = folder.sub("backups")
        _ = try copy(try await Shop.shared.dump(.custom), into: backups, as: "shop.dump")
        let config = try ConfigFixture(in: folder, drills: ["shop": ConfigFixture.drill(location: backups)])
        let archive = folder.sub("archive")
        let child = try ChildProcess(ProcessSpec(executable: DrillBinary.path,
                                                 arguments: ["run", "shop", "--config", config.directory, "--archive", archive],
                                                 environment: ["TMPDIR": folder.sub("scratch")], unsetEnvironment: ["PG*", "DRILL_*"],
                                                 stdout: .pipe, stderr: .pipe))
        try child.stdout?.close()
        try child.stderrPipe?.close()
        let result = await child.wait()
        #expect(result.exitCode == 0, "\(result.summary)")
        let reports = try await ReportArchive(storage: LocalArchiveStorage(root: archive)).reports().reports
        #expect(reports.first?.report.status == .compliant)
        expectNothingLeft(folder)
    }
}

@Suite("drill plan and environment problems", .timeLimit(.minutes(3)))
struct PlanCommandTests {
    @Test("plan shows the backup it would restore, its age against the RPO, and the last measured RTO")
    func plan() async throws {
        let folder = TempFolder("plan")
        let backups = folder.sub("backups")
        let dump = try copy(try await Shop.shared.dump(.custom), into: backups, as: "shop-1.dump")
        let old = try copy(dump, into: backups, as: "shop-0.dump")
        try setModified(old, Date().addingTimeInterval(-86_400))
        let config = try ConfigFixture(in: folder, drills: ["shop": ConfigFixture.drill(location: backups, pattern: "shop-*.dump"),
                                                            "gone": ConfigFixture.drill(location: folder.file("missing"))])
        let archive = folder.sub("archive")
        let env = ["TMPDIR": folder.sub("scratch")]
        let before = try await DrillBinary.run(["plan", "--json", "--config", config.directory, "--archive", archive])
        #expect(before.exitCode == 0)
        let entries = try JSONSerialization.jsonObject(with: Data(before.stdout.utf8)) as! [[String: Any]]
        let shop = try #require(entries.first { $0["drill"] as? String == "shop" })
        #expect(shop["backup"] as? String == dump)
        #expect(shop["rpo_met"] as? Bool == true)
        #expect(shop["last_rto_seconds"] == nil)
        #expect((entries.first { $0["drill"] as? String == "gone" }?["problem"] as? String)?.contains("does not exist") == true)
        _ = try await DrillBinary.run(["run", "shop", "--config", config.directory, "--archive", archive], environment: env)
        let after = try await DrillBinary.run(["plan", "shop", "--config", config.directory, "--archive", archive])
        #expect(after.stdout.contains("within the RPO target of 5m"))
        #expect(after.stdout.contains("last measured RTO: "))
        #expect(!after.stdout.contains("none in the archive"))
    }

    @Test("plan shows the PostgreSQL version inside compressed and encrypted dumps, reading only their head (a stalled download does not hold it); a wrong key is that drill's problem and never shows")
    func planInsideLayers() async throws {
        let folder = TempFolder("plan-enc")
        let keys = folder.sub("keys"), scratch = folder.sub("scratch")
        func into(_ dir: String, _ name: String) -> String { (folder.sub(dir) as NSString).appendingPathComponent(name) }
        let plain = try await Shop.shared.dump(.plain)
        try await EncodedDumps.compress(plain, with: .zstd, to: into("zstd", "shop.sql.zst"))
        _ = try copy(try await Shop.shared.dump(.plainGzip), into: folder.sub("gzip"), as: "shop.sql.gz")
        let (identity, recipient) = try await EncodedDumps.ageIdentity(in: keys)
        let (wrong, _) = try await EncodedDumps.ageIdentity(in: keys, name: "wrong.key")
        try await EncodedDumps.ageEncrypt(try await Shop.shared.dump(.custom), to: recipient, into: into("age", "shop.dump.age"))
        try await EncodedDumps.ageEncrypt(try await DumpAllTests.Cluster.shared.dump(), to: recipient, into: into("cluster", "shop-cluster.sql.age"))
        let home = try await EncodedDumps.gnupgHome(email: "plan@drill.invalid")
        defer { Task { await EncodedDumps.removeGnuPGHome(home) } }
        try await EncodedDumps.gpgEncrypt(plain, home: home, to: "plan@drill.invalid", into: into("gpg", "shop.sql.gpg"))
        // Served over HTTP by a proxy that sends the first 400 kB of each GET, then nothing: enough for zstd's first
        // input buffer (128 KiB) and far from the whole dump (a table of random text compresses little).
        let bulk = folder.file("bulk.sql")
        try await EncodedDumps.bulkDump("plan_bulk", rows: 60_000, format: .plain, to: bulk)
        let served = into("served", "shop.sql.zst")
        try await EncodedDumps.compress(bulk, with: .zstd, to: served)
        let size = try #require(try FileManager.default.attributesOfItem(atPath: served)[.size] as? Int)
        #expect(size > 1_000_000, "the stall cuts the download short (\(size) bytes)")
        let http = try await StaticHTTPServer(directory: (served as NSString).deletingLastPathComponent)
        defer { http.stop() }
        let proxy = try await FaultProxy(upstreamPort: http.port, match: "shop.sql.zst", faults: Array(repeating: "stall:400000", count: 10))
        defer { proxy.stop() }
        let age = #"{ "age_identity": "\#(identity)" }"#
        let config = try ConfigFixture(in: folder, drills: [
            "zstd": encodedDrill(location: folder.sub("zstd")),
            "gzip": encodedDrill(location: folder.sub("gzip")),
            "age": encodedDrill(location: folder.sub("age"), decrypt: age),
            "agewrong": encodedDrill(location: folder.sub("age"), decrypt: #"{ "age_identity": "\#(wrong)" }"#),
            "cluster": encodedDrill(location: folder.sub("cluster"), decrypt: age),
            "gpg": encodedDrill(location: folder.sub("gpg"), decrypt: #"{ "gpg_homedir": "\#(home)" }"#),
            "stalled": encodedDrill(location: "\(proxy.endpoint)/shop.sql.zst"),
        ])
        let archive = folder.sub("archive")
        let run = try await DrillBinary.run(["plan", "--json", "--config", config.directory, "--archive", archive], environment: ["TMPDIR": scratch])
        #expect(run.exitCode == 0, "\(run.output)")
        let entries = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [[String: Any]], "\(run.output)")
        func entry(_ name: String) -> [String: Any] { entries.first { $0["drill"] as? String == name } ?? [:] }
        for (drill, source) in [("zstd", "plain dump's header comment inside zstd"), ("gzip", "plain dump's header comment inside gzip"),
                                ("age", "archive header inside age, gzip-compressed"), ("cluster", "cluster dump's header comment inside age"),
                                ("gpg", "plain dump's header comment inside openpgp"), ("stalled", "plain dump's header comment inside zstd")] {
            let e = entry(drill)
            let backup = e["postgres_backup"] as? String ?? ""
            #expect(backup.hasPrefix("15.") && backup.hasSuffix("(\(source))"), "\(drill): \(e)")
            #expect((e["postgres_restore"] as? String)?.hasPrefix("15.") == true, "\(drill): \(e)")
            #expect(e["problem"] == nil, "\(drill): \(e)")
        }
        let refused = entry("agewrong")
        #expect(refused["postgres_backup"] == nil)
        #expect(refused["backup"] as? String != nil, "the backup itself is still shown: \(refused)")
        let problem = refused["postgres_problem"] as? String ?? ""
        #expect(problem.contains("(decryption_failed)") && problem.contains("age could not decrypt shop.dump.age"), "\(refused)")
        #expect(!run.output.contains("AGE-SECRET-KEY") && !run.output.contains("PRIVATE KEY"))
        // Only the head was read: the stalled download was given up (never resumed from where it stalled).
        let gets = try await proxy.log().filter { $0.method == "GET" && $0.path.hasSuffix("shop.sql.zst") }
        #expect(gets.contains { $0.range == nil }, "the streamed download: \(gets)")
        #expect(gets.allSatisfy { $0.range == nil || $0.range!.hasPrefix("bytes=0-") }, "no resumed download: \(gets)")
        // Nothing left: no decoder, no gpg-agent, no private GnuPG home, no run record.
        #expect(EncodedDumps.gpgAgents(homeContaining: scratch).isEmpty, "gpg-agent left running")
        #expect(Leftovers.scratchEntries(in: scratch).isEmpty, "\(Leftovers.scratchEntries(in: scratch))")
        #expect(!FileManager.default.fileExists(atPath: (scratch as NSString).appendingPathComponent(".drill-runs")))

        let text = try await DrillBinary.run(["plan", "agewrong", "zstd", "--config", config.directory, "--archive", archive], environment: ["TMPDIR": scratch])
        #expect(text.stdout.contains("postgres: backup version unknown; PROBLEM — cannot read the backup's version (decryption_failed): age could not decrypt shop.dump.age"),
                "\(text.output)")
        #expect(text.stdout.contains("(plain dump's header comment inside zstd); would restore with PostgreSQL 15."), "\(text.output)")
    }

    @Test("no usable PostgreSQL is a failed drill (exit 3) with a clear message")
    func noPostgres() async throws {
        let folder = TempFolder("nopg")
        let backups = folder.sub("backups")
        _ = try copy(try await Shop.shared.dump(.custom), into: backups, as: "shop.dump")
        let config = try ConfigFixture(in: folder, drills: ["shop": ConfigFixture.drill(location: backups)])
        let r = try await DrillBinary.run(["run", "shop", "--config", config.directory, "--archive", folder.sub("archive")],
                                          environment: ["TMPDIR": folder.sub("scratch"), "DRILL_PG_BINDIR": folder.sub("empty")])
        #expect(r.exitCode == 3)
        #expect(r.stdout.contains("holds no initdb and postgres"))
        expectNothingLeft(folder)
    }
}
