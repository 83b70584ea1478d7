import DrillCore
import DrillLive
import DrillTesting
import Foundation
import Testing

/// What `drill schedule` emits, checked by the real consumers: kubernetes-validate --strict, systemd-analyze verify,
/// and Airflow 3 itself (the DAG imports, and `airflow dags test` runs real drills to success and to failure).
@Suite("Scheduler units checked by their real tools", .serialized, .timeLimit(.minutes(10)))
struct SchedulerToolsTests {
    /// The virtualenv scripts/install-deps.sh --test makes (Airflow, kubernetes-validate).
    static var venv: String {
        ProcessInfo.processInfo.environment["DRILL_TEST_VENV"]
            ?? (NSHomeDirectory() as NSString).appendingPathComponent(".cache/drill/test-venv")
    }

    static func tool(_ name: String) throws -> String {
        let path = (venv as NSString).appendingPathComponent("bin/\(name)")
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw DrillError(.configuration, "\(path) is missing: run scripts/install-deps.sh --test")
        }
        return path
    }

    static func run(_ exe: String, _ args: [String], environment: [String: String] = [:], in dir: String? = nil) async throws
        -> ProcessResult {
        try await ChildProcess.run(ProcessSpec(executable: exe, arguments: args, environment: environment,
                                               unsetEnvironment: ["PG*", "DRILL_*"], workingDirectory: dir,
                                               stdout: .capture(limit: 1 << 20), stderr: .capture(limit: 1 << 20)))
    }

    static func schedule(_ config: String, _ args: [String], into dir: String) async throws -> [String] {
        let r = try await DrillBinary.run(["schedule", "--config", config, "--output-dir", dir] + args)
        #expect(r.exitCode == 0, "\(r.output)")
        return r.stdout.split(separator: "\n").map(String.init)
    }

    static func shopConfig(_ folder: TempFolder, drills: [String: String]? = nil) throws -> ConfigFixture {
        try ConfigFixture(in: folder, drills: drills ?? [
            "shop": ConfigFixture.drill(location: "/srv/backups/shop"),
            "ledger": ConfigFixture.drill(tier: "important", location: "/srv/backups/ledger"),
        ])
    }

    @Test("kubernetes: the Indexed-Job CronJob (4 shards on S3, and 1 shard with a PVC) passes kubernetes-validate --strict with no warning; a misspelt field fails it")
    func kubernetes() async throws {
        let folder = TempFolder("k8s")
        let config = try Self.shopConfig(folder)
        let validate = try Self.tool("kubernetes-validate")
        let four = try await Self.schedule(config.directory, ["--emit", "kubernetes", "--shards", "4", "--archive", "s3://audit/drill/",
                                                              "--image", "registry.example/drill:0.1"], into: folder.sub("k4"))
        let one = try await Self.schedule(config.directory, ["--emit", "kubernetes"], into: folder.sub("k1"))
        for file in four + one {
            let r = try await Self.run(validate, ["--strict", file])
            #expect(r.exitCode == 0, "\(r.stdout)\(r.stderr)")
            #expect(!(r.stdout + r.stderr).localizedCaseInsensitiveContains("warn"), "\(r.stdout)\(r.stderr)")
            #expect(r.stdout.contains("passed"), "\(r.stdout)")
        }
        let text = try String(contentsOfFile: four[0], encoding: .utf8)
        for needle in ["completionMode: Indexed", "completions: 4", "parallelism: 4", "- \"$(JOB_COMPLETION_INDEX)/4\"",
                       "runAsNonRoot: true", "name: drill-credentials", "path: \"drills/shop.json\"", "image: \"registry.example/drill:0.1\""] {
            #expect(text.contains(needle), "missing \(needle)")
        }
        #expect(!text.contains("persistentVolumeClaim"), "a sharded job keeps its archive on S3")
        #expect(try String(contentsOfFile: one[0], encoding: .utf8).contains("claimName: drill-archive"))
        let bad = folder.file("bad.yaml")
        try text.replacingOccurrences(of: "completionMode", with: "completionMod").write(toFile: bad, atomically: true, encoding: .utf8)
        #expect(try await Self.run(validate, ["--strict", bad]).exitCode != 0, "the validator must catch a misspelt field")
        // Several shards cannot share a folder archive.
        let refused = try await DrillBinary.run(["schedule", "--config", config.directory, "--emit", "kubernetes", "--shards", "3"])
        #expect(refused.exitCode == 2)
        #expect(refused.stderr.contains("s3://"))
    }

    @Test("systemd: the service and timer pass systemd-analyze verify with no output, run as a dedicated user with a sandbox, with clean paths")
    func systemd() async throws {
        let folder = TempFolder("systemd")
        let config = try Self.shopConfig(folder)
        let archive = folder.sub("archive")
        let files = try await Self.schedule(config.directory + "/.", ["--emit", "systemd", "--archive", archive + "/",
                                                                      "--executable", DrillBinary.path], into: folder.sub("units"))
        #expect(files.map { ($0 as NSString).lastPathComponent } == ["drill-due.service", "drill-due.timer"])
        let r = try await Self.run("/usr/bin/systemd-analyze", ["verify"] + files)
        #expect(r.exitCode == 0)
        #expect(r.stdout.isEmpty && r.stderr.isEmpty, "systemd-analyze printed: \(r.stdout)\(r.stderr)")
        let service = try String(contentsOfFile: files[0], encoding: .utf8)
        for needle in ["User=drill", "PrivateTmp=yes", "ProtectSystem=strict", "ReadWritePaths=\(archive)\n",
                       "--config \(config.directory) --archive \(archive)\n"] {
            #expect(service.contains(needle), "missing \(needle) in\n\(service)")
        }
        #expect(!service.contains("/./") && !service.contains("/. ") && !service.contains("//"), "paths are clean")
        // The check itself can fail: a misspelt key is reported.
        let bad = folder.file("bad.service")
        try service.replacingOccurrences(of: "ExecStart=", with: "ExecStrat=").write(toFile: bad, atomically: true, encoding: .utf8)
        let b = try await Self.run("/usr/bin/systemd-analyze", ["verify", bad])
        #expect(!(b.stdout + b.stderr).isEmpty, "systemd-analyze should complain about ExecStrat")
    }

    @Test("airflow: the DAG file imports with no error in Airflow 3, and `airflow dags test` runs a real drill to success and a corrupt one to failure")
    func airflow() async throws {
        let folder = TempFolder("airflow")
        let good = folder.sub("good"), bad = folder.sub("bad")
        _ = try copy(try await Shop.shared.dump(.custom), into: good, as: "shop.dump")
        let corrupt = try copy(try await Shop.shared.dump(.custom), into: bad, as: "shop.dump")
        try ArchiveFixture.truncate(corrupt, keeping: 0.5)
        let config = try Self.shopConfig(folder, drills: [
            "shop": ConfigFixture.drill(tier: "critical", location: good, checks: ConfigFixture.shopChecks(orders: Shop.orders)),
            "broken": ConfigFixture.drill(tier: "standard", location: bad),
        ])
        let archive = folder.sub("archive")
        let dags = folder.sub("dags")
        let files = try await Self.schedule(config.directory, ["--emit", "airflow", "--archive", archive, "--executable", DrillBinary.path, "--retries", "0"],
                                            into: dags)
        #expect(files.count == 1)
        let python = try Self.tool("python"), airflow = try Self.tool("airflow")
        let env = ["AIRFLOW_HOME": folder.sub("airflow-home"), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                   "AIRFLOW__CORE__DAGS_FOLDER": dags, "TMPDIR": folder.sub("scratch")]
        let bag = try await Self.run(python, ["-c", """
            import json
            from airflow.dag_processing.dagbag import DagBag
            b = DagBag(dag_folder=\(ConfigFixtureQuote.python(dags)))
            print(json.dumps({"errors": {k: str(v) for k, v in b.import_errors.items()}, "dags": sorted(b.dag_ids),
                              "tasks": {d: sorted(t.task_id for t in b.dags[d].tasks) for d in b.dag_ids},
                              "skip": [t.skip_on_exit_code for d in b.dag_ids for t in b.dags[d].tasks]}))
            """], environment: env)
        #expect(bag.exitCode == 0, "\(bag.stderr)")
        let parsed = try JSONSerialization.jsonObject(with: Data((bag.stdout.split(separator: "\n").last ?? "").utf8)) as? [String: Any]
        #expect((parsed?["errors"] as? [String: Any])?.isEmpty == true, "\(bag.stdout)")
        #expect(parsed?["dags"] as? [String] == ["drill_critical", "drill_standard"])
        #expect((parsed?["tasks"] as? [String: [String]])?["drill_critical"] == ["shop"])
        // Airflow stores skip_on_exit_code=None as an empty list: no exit code means "skipped" (not even 99).
        #expect((parsed?["skip"] as? [Any])?.allSatisfy { ($0 as? [Any])?.isEmpty == true || $0 is NSNull } == true, "\(bag.stdout)")

        let migrate = try await Self.run(airflow, ["db", "migrate"], environment: env)
        #expect(migrate.exitCode == 0, "\(migrate.stderr.suffix(2000))")
        let ok = try await Self.run(airflow, ["dags", "test", "drill_critical"], environment: env)
        #expect(ok.exitCode == 0, "\(ok.stdout.suffix(3000))\(ok.stderr.suffix(3000))")
        let failing = try await Self.run(airflow, ["dags", "test", "drill_standard"], environment: env)
        #expect(failing.exitCode != 0, "a failed drill must fail the Airflow task")
        let reports = try await ReportArchive(storage: LocalArchiveStorage(root: archive)).reports().reports.map(\.report)
        #expect(reports.first { $0.drill == "shop" }?.status == .compliant)
        #expect(reports.first { $0.drill == "broken" }?.status == .failed)
        expectNothingLeft(folder)
    }

    @Test("the Containerfile builds and installs only through the scripts CI runs, and the runtime install step works")
    func containerfile() async throws {
        let text = try String(contentsOfFile: (ToolProcess.packageRoot as NSString).appendingPathComponent("Containerfile"), encoding: .utf8)
        let runs = text.split(separator: "\n").filter { $0.hasPrefix("RUN ") }
        #expect(runs.count >= 3)
        for run in runs {
            let body = run.dropFirst(4)
            #expect(body.contains("install-deps.sh") || body.contains("scripts/build.sh") || body.hasPrefix("useradd "),
                    "a RUN step that CI does not exercise: \(run)")
        }
        let install = try await Self.run("/bin/bash", [(ToolProcess.packageRoot as NSString).appendingPathComponent("scripts/install-deps.sh"), "--runtime"])
        #expect(install.exitCode == 0, "\(install.stderr)")
    }
}

enum ConfigFixtureQuote {
    static func python(_ s: String) -> String { "'" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'" }
}
