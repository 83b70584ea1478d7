import DrillCore
import DrillLive
import DrillTesting
import Foundation
import Testing

/// Checks whose result is huge, on a real restored dump through a real `drill run --stats`: a 100 MB value and a
/// 10-million-row result. The report stays small, the runner's memory stays bounded, the checks evaluate on the first
/// row.
@Suite("Bounded check output", .timeLimit(.minutes(5)))
struct BoundedCheckTests {
    @Test("a 100 MB value and 10 million rows: report under 64 KiB, value cut at 1 KiB with its length and SHA-256")
    func hugeResults() async throws {
        let folder = TempFolder("bounded")
        let backups = folder.sub("backups")
        _ = try copy(try await Shop.shared.dump(.custom), into: backups, as: "shop.dump")
        let checks = """
            [ { "name": "huge value", "sql": "SELECT repeat('x', 100000000)", "expect": { "rows": { "min": 1 } } },
              { "name": "ten million rows", "sql": "SELECT g FROM generate_series(1, 10000000) g", "expect": { "equals": 1 } },
              { "name": "rows are counted only as far as needed", "sql": "SELECT g FROM generate_series(1, 10000000) g",
                "expect": { "rows": { "max": 5 } } },
              { "name": "a multi-line value", "sql": "SELECT E'first\\\\nsecond'", "expect": { "matches": "second" } },
              { "name": "not a query a cursor takes", "sql": "SHOW TimeZone", "expect": { "equals": "UTC" } },
              { "name": "a typo", "sql": "SELEC 1", "expect": { "equals": 1 } } ]
            """
        let config = try ConfigFixture(in: folder, drills: ["shop": ConfigFixture.drill(tier: "standard", location: backups, checks: checks)])
        let archive = folder.sub("archive")
        let r = try await DrillBinary.run(["run", "shop", "--config", config.directory, "--archive", archive, "--stats"],
                                          environment: ["TMPDIR": folder.sub("scratch")])
        #expect(r.exitCode == 1, "the rows_max check fails: \(r.output.prefix(4000))")
        let stats = try #require(r.stderr.split(separator: "\n").last { $0.hasPrefix("drill-stats: ") })
        let peakKiB = try #require(stats.split(separator: " ").first { $0.hasPrefix("max_rss_kib=") }.flatMap { Int($0.dropFirst("max_rss_kib=".count)) })
        print("bounded checks: drill's peak memory \(peakKiB / 1024) MiB, stdout+stderr \(r.output.utf8.count) bytes")

        let files = try FileManager.default.subpathsOfDirectory(atPath: archive).filter { $0.hasSuffix(".json") }
        let json = try #require(files.first.map { (archive as NSString).appendingPathComponent($0) })
        let size = try #require(try FileManager.default.attributesOfItem(atPath: json)[.size] as? Int)
        print("bounded checks: JSON report \(size) bytes")
        #expect(size < 64 * 1024, "the JSON report is \(size) bytes")
        #expect(r.output.utf8.count < 64 * 1024, "stdout and stderr are \(r.output.utf8.count) bytes")
        // A 100 MB value is held by libpq once (its answer buffer and result); nothing else may copy it whole.
        #expect(peakKiB < 400 * 1024, "drill's peak memory was \(peakKiB / 1024) MiB")

        let report = try #require(try await ReportArchive(storage: LocalArchiveStorage(root: archive)).reports().reports.first?.report)
        let huge = try #require(report.checks.first { $0.name == "huge value" })
        #expect(huge.passed)
        #expect(huge.observed == String(repeating: "x", count: 1024))
        #expect(huge.observedBytes == 100_000_000)
        #expect(huge.observedSHA256 == SHA256Hasher.hex(of: Data(repeating: UInt8(ascii: "x"), count: 100_000_000)))
        #expect(huge.observedTruncated == true)
        let many = try #require(report.checks.first { $0.name == "ten million rows" })
        #expect(many.passed, "evaluated on the first row: \(many.error ?? "")")
        #expect(many.observed == "1")
        #expect(many.rows == 2 && many.rowsTruncated == true, "the first row and one more, to know there were more: \(String(describing: many.rows))")
        #expect(many.observedTruncated == nil && many.observedBytes == 1)
        let counted = try #require(report.checks.first { $0.name == "rows are counted only as far as needed" })
        #expect(!counted.passed)
        #expect(counted.rows == 6 && counted.rowsTruncated == true)
        #expect(counted.error == "more than 5 rows, expected at most 5", "\(counted.error ?? "")")
        let multi = try #require(report.checks.first { $0.name == "a multi-line value" })
        #expect(multi.passed && multi.observed == "first\nsecond")
        #expect(report.checks.first { $0.name == "not a query a cursor takes" }?.passed == true)
        let typo = try #require(report.checks.first { $0.name == "a typo" })
        #expect(!typo.passed && typo.error?.contains("syntax error") == true, "\(typo.error ?? "")")
        // One progress line per check, cut short and on one line.
        let lines = r.stderr.split(separator: "\n").filter { $0.contains("check passed: ") || $0.contains("check FAILED: ") }
        #expect(lines.count == 6, "\(lines)")
        #expect(lines.allSatisfy { $0.utf8.count < 400 }, "\(lines.map(\.utf8.count))")
        #expect(lines.contains { $0.contains(#"a multi-line value → first\nsecond"#) }, "\(lines)")
        expectNothingLeft(folder)
    }
}
