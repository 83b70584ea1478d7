import DrillCore
import DrillLive
import DrillTesting
import Foundation
import Logging
import Testing

/// Expectations on a real restored dump (Tests/fixtures/ge/quality.sql: NULLs, duplicates, bad formats, out-of-range
/// values, an unknown status, a column named like an SQL injection), and their conformance with Great Expectations 1.x
/// itself on the same data.
@Suite("Expectations", .serialized, .timeLimit(.minutes(10)))
struct ExpectationTests {
    static let fixtures = (FixtureProcess.fixturesDirectory as NSString).appendingPathComponent("ge")

    /// The quality database on the source server (created once) and a custom-format dump of it.
    static func qualityDump(in folder: TempFolder) async throws -> String {
        try await Quality.shared.create()
        let backups = folder.sub("backups")
        let path = (backups as NSString).appendingPathComponent("quality.dump")
        try await SourceDatabase.shared.dump("quality", to: path, format: .custom)
        return backups
    }

    static func drill(_ backups: String, checks: String, expectations: String = "[]") -> String {
        """
        { "version": 1, "tier": "standard",
          "backup": { "location": "\(backups)", "settle": "0s" },
          "restore": { "jobs": 1, "profile": "fast" },
          "checks": \(checks), "expectations": \(expectations) }
        """
    }

    @Test("every expectation's counts on the restored table; identifiers quoted, values bound")
    func countsOnRestoredData() async throws {
        let folder = TempFolder("expect")
        let backups = try await Self.qualityDump(in: folder)
        let checks = #"""
            [ { "name": "email present", "expect": "column_values_to_not_be_null", "table": "users", "column": "email" },
              { "name": "email unique", "expect": "expect_column_values_to_be_unique", "table": "public.users", "column": "email" },
              { "name": "email format", "expect": "column_values_to_match_regex", "table": "users", "column": "email",
                "regex": "^[^@]+@[^@]+\\.[a-z]+$", "mostly": 0.8 },
              { "name": "age range", "expect": "column_values_to_be_between", "table": "users", "column": "age", "min": 0, "max": 150 },
              { "name": "known status", "expect": "column_values_to_be_in_set", "table": "users", "column": "status",
                "values": ["active", "banned"] },
              { "name": "some users", "expect": "table_row_count_to_be_between", "table": "users", "min": 1 },
              { "name": "fresh users", "expect": "column_max_to_be_between", "table": "users", "column": "created_at", "min": "rpo" },
              { "name": "oldest user fresh", "expect": "column_min_to_be_between", "table": "users", "column": "created_at", "min": "rpo" },
              { "name": "no such column", "expect": "column_values_to_not_be_null", "table": "users", "column": "phone" },
              { "name": "no such table", "expect": "table_row_count_to_equal", "table": "customers", "value": 3 },
              { "name": "a type error", "expect": "column_values_to_be_between", "table": "users", "column": "age", "min": "abc" },
              { "name": "hostile column", "expect": "column_values_to_not_be_in_set", "table": "hostile",
                "column": "x\"; DROP TABLE users; --", "values": ["');DROP TABLE users;--"] },
              { "name": "hostile column present", "expect": "column_to_exist", "table": "hostile", "column": "x\"; DROP TABLE users; --" },
              { "name": "users still there", "sql": "SELECT count(*) FROM users", "expect": { "equals": 10 } } ]
            """#
        let report = try await runDrill(Self.drill(backups, checks: checks), name: "quality", in: folder)
        func check(_ name: String) throws -> DrillReport.Check { try #require(report.checks.first { $0.name == name }, "\(name)") }

        let present = try check("email present")
        #expect(!present.passed && present.elementCount == 10 && present.unexpectedCount == 2 && present.missingCount == nil)
        #expect(present.unexpectedPercent == 20 && present.partialUnexpectedList == [.null, .null])
        #expect(present.expectation == "expect_column_values_to_not_be_null")
        let unique = try check("email unique")
        #expect(!unique.passed && unique.unexpectedCount == 3 && unique.missingCount == 2, "a value present three times counts 3")
        #expect(unique.partialUnexpectedList == [.string("b@x.com"), .string("b@x.com"), .string("b@x.com")])
        let format = try check("email format")
        #expect(format.passed, "1 of 8 non-NULL values is unexpected: 87.5% pass, mostly 0.8")
        #expect(format.unexpectedCount == 1 && format.unexpectedPercent == 12.5 && format.partialUnexpectedList == [.string("not-an-email")])
        let age = try check("age range")
        #expect(!age.passed && age.unexpectedCount == 2 && age.missingCount == 1)
        #expect(Set((age.partialUnexpectedList ?? []).map(\.compactText)) == ["200", "-5"], "0 and 150 are inside: bounds are inclusive")
        let status = try check("known status")
        #expect(!status.passed && status.unexpectedCount == 1 && status.partialUnexpectedList == [.string("pending")])
        let some = try check("some users")
        #expect(some.passed && some.observedValue == .number(10))
        #expect(try check("fresh users").passed, "the newest row is an hour old; the standard tier's RPO is 24h")
        let oldest = try check("oldest user fresh")
        #expect(!oldest.passed, "the oldest row is 10 days old")
        let missingColumn = try check("no such column")
        #expect(!missingColumn.passed && missingColumn.error == #"column "phone" does not exist in users"#, "\(missingColumn.error ?? "")")
        let missingTable = try check("no such table")
        #expect(!missingTable.passed && missingTable.error == "table customers does not exist")
        let typeError = try check("a type error")
        #expect(!typeError.passed && typeError.error?.contains("invalid input syntax") == true, "\(typeError.error ?? "")")
        // The other expectations of the table still ran in their one scan, after it failed and was split.
        #expect(age.elementCount == 10)
        let hostile = try check("hostile column")
        #expect(!hostile.passed && hostile.elementCount == 3 && hostile.unexpectedCount == 1 && hostile.missingCount == 1)
        #expect(hostile.partialUnexpectedList == [.string("');DROP TABLE users;--")])
        #expect(hostile.sql.contains(#""x""; DROP TABLE users; --""#), "\(hostile.sql)")
        #expect(try check("hostile column present").passed)
        #expect(try check("users still there").passed)
        #expect(report.status == .nonCompliant)
        #expect(report.checks.count == 14)

        // The same results in the Markdown and JUnit reports.
        let md = MarkdownReport.render(report)
        #expect(md.contains("2 unexpected of 10 rows (20%)"), "\(md)")
        #expect(md.contains(#"e.g. "pending""#))
        let junit = JUnitReport.render([report])
        #expect(junit.contains("unexpected values: &quot;b@x.com&quot;"), "\(junit)")
        expectNothingLeft(folder)
    }

    @Test("conformance: Great Expectations 1.x and drill give the same success, unexpected_count and element_count")
    func conformanceWithGreatExpectations() async throws {
        let folder = TempFolder("gecheck")
        let backups = try await Self.qualityDump(in: folder)
        let suite = (Self.fixtures as NSString).appendingPathComponent("users.json")
        let config = try ConfigFixture(in: folder, drills: [:])
        let suites = (config.directory as NSString).appendingPathComponent("suites")
        try FileManager.default.createDirectory(atPath: suites, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: suite, toPath: (suites as NSString).appendingPathComponent("users.json"))
        let drillJSON = Self.drill(backups, checks: "[]", expectations: #"[ { "suite": "suites/users.json", "table": "public.users" } ]"#)
        try drillJSON.write(toFile: (config.directory as NSString).appendingPathComponent("drills/quality.json"), atomically: true, encoding: .utf8)
        let loaded = try config.load()
        let drill = try #require(loaded.drills.first)
        let deps = await LiveDependencies.make(scratchRoot: folder.sub("scratch"), drillVersion: "test",
                                               logger: .init(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        let report = await DrillRunner(deps: deps, clock: ContinuousClock()).run(drill, tier: loaded.tier(of: drill))
        expectNothingLeft(folder)

        // Great Expectations itself, on the source database the dump was taken of (the same rows).
        let ge = try await Self.greatExpectations(suite: suite, table: "users")
        try #require(ge.count == 29, "one GE result per expectation of the suite")
        #expect(report.checks.count == ge.count, "\(report.checks.map { $0.name }) \(report.findings)")
        for (g, d) in zip(ge, report.checks) {
            let label = "\(d.name) \(d.expected): GE \(g), drill \(d.passed) \(String(describing: d.elementCount)) \(String(describing: d.unexpectedCount)) \(d.error ?? "")"
            #expect(d.expectation == g["type"] as? String, "\(label)")
            #expect(d.passed == (g["success"] as? Bool), "\(label)")
            #expect(d.unexpectedCount == g["unexpected_count"] as? Int, "\(label)")
            #expect(d.elementCount == g["element_count"] as? Int, "\(label)")
            if let observed = g["observed_value"] as? Double, case .number(let mine)? = d.observedValue {
                #expect(Swift.abs(observed - mine) < 1e-9, "\(label)")
            }
        }
        #expect(report.checks.first { $0.name == "email present" }?.passed == false, "meta.name names a check")
        #expect(report.checks.contains { $0.name == "users: expect_column_values_to_be_unique(email)" })
    }

    /// Runs Tests/fixtures/ge_validate.py in Great Expectations' own virtualenv (scripts/install-deps.sh --test).
    static func greatExpectations(suite: String, table: String) async throws -> [[String: Any]] {
        let venv = ProcessInfo.processInfo.environment["DRILL_GE_VENV"]
            ?? (NSHomeDirectory() as NSString).appendingPathComponent(".cache/drill/ge-venv")
        let python = (venv as NSString).appendingPathComponent("bin/python")
        try #require(FileManager.default.isExecutableFile(atPath: python), "no Great Expectations virtualenv at \(venv): run scripts/install-deps.sh --test")
        let c = try await SourceDatabase.shared.start().connection(database: "quality")
        let k = c.keywords
        let url = "postgresql+psycopg2://\(k["user"]!)@/\(k["dbname"]!)?host=\(k["host"]!)&port=\(k["port"]!)"
        let script = (FixtureProcess.fixturesDirectory as NSString).appendingPathComponent("ge_validate.py")
        let r = try await ChildProcess.run(ProcessSpec(
            executable: python, arguments: [script, suite, "public", table],
            environment: ["GE_PG_URL": url, "GX_ANALYTICS_ENABLED": "false", "HOME": NSTemporaryDirectory()],
            unsetEnvironment: ["PG*", "DRILL_*"],
            stdout: .capture(limit: 1 << 20), stderr: .capture(limit: 1 << 20)))
        try #require(r.succeeded, "ge_validate.py failed: \(r.stderr.suffix(3000))")
        let parsed = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]]
        return try #require(parsed)
    }

    @Test("suite files: 1.x and 0.x load; an unsupported type fails validation with its name, or is skipped on request")
    func suiteFiles() async throws {
        let folder = TempFolder("gesuite")
        let config = try ConfigFixture(in: folder, drills: [:])
        let suites = (config.directory as NSString).appendingPathComponent("suites")
        try FileManager.default.createDirectory(atPath: suites, withIntermediateDirectories: true)
        for name in ["users.json", "legacy-0x.json"] {
            try FileManager.default.copyItem(atPath: (Self.fixtures as NSString).appendingPathComponent(name),
                                             toPath: (suites as NSString).appendingPathComponent(name))
        }
        let odd = #"{ "name": "odd", "expectations": [ { "type": "expect_column_values_to_be_dateutil_parseable", "kwargs": { "column": "email" } }, { "type": "expect_column_to_exist", "kwargs": { "column": "id" } } ] }"#
        try odd.write(toFile: (suites as NSString).appendingPathComponent("odd.json"), atomically: true, encoding: .utf8)
        func write(_ expectations: String) throws {
            let body = Self.drill(folder.sub("backups"), checks: "[]", expectations: expectations)
            try body.write(toFile: (config.directory as NSString).appendingPathComponent("drills/q.json"), atomically: true, encoding: .utf8)
        }
        try write(#"[ { "suite": "suites/users.json", "table": "public.users" }, { "suite": "suites/legacy-0x.json", "table": "users" } ]"#)
        let ok = try config.load()
        let checks = try #require(ok.drills.first).checks
        #expect(checks.count == 29 + 3)
        #expect(checks.last?.name == "legacy: expect_column_values_to_be_in_set(status)")
        #expect(checks.last?.expectation?.table == TableName(name: "users"))

        try write(#"[ { "suite": "suites/odd.json", "table": "users" } ]"#)
        let r = try await DrillBinary.run(["validate", "--config", config.directory])
        #expect(r.exitCode == 2, "\(r.output)")
        #expect(r.output.contains("suites/odd.json") && r.output.contains("expect_column_values_to_be_dateutil_parseable"), "\(r.output)")

        try write(#"[ { "suite": "suites/odd.json", "table": "users", "unsupported": "skip" } ]"#)
        let skipped = try #require(try config.load().drills.first).checks
        #expect(skipped.count == 2 && skipped[0].expectation?.skipped != nil && skipped[1].expectation?.skipped == nil)
    }
}

/// The quality database on the shared source server, created once per test process.
actor Quality {
    static let shared = Quality()
    private var created: Task<Void, any Error>?

    func create() async throws {
        if created == nil {
            created = Task {
                let sql = try String(contentsOfFile: (ExpectationTests.fixtures as NSString).appendingPathComponent("quality.sql"), encoding: .utf8)
                try await SourceDatabase.shared.psql("DROP DATABASE IF EXISTS quality")
                try await SourceDatabase.shared.psql("CREATE DATABASE quality")
                try await SourceDatabase.shared.psql(sql, database: "quality")
            }
        }
        try await created!.value
    }
}
