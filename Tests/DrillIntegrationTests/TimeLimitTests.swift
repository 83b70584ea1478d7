import DrillCore
import DrillLive
import DrillTesting
import Foundation
import Testing

/// `restore.timeout` on a real restore that hangs: a plain dump with `SELECT pg_sleep(100000);` in it.
@Suite("Drill time limit", .timeLimit(.minutes(1)))
struct TimeLimitTests {
    @Test("a hanging restore with restore.timeout 15s is stopped, torn down and reported non-compliant (exit 1)")
    func hangingRestore() async throws {
        let folder = TempFolder("timeout")
        let backups = folder.sub("backups")
        let sql = try String(contentsOfFile: try await Shop.shared.dump(.plain), encoding: .utf8)
        let marker = "-- PostgreSQL database dump complete"
        try sql.replacingOccurrences(of: marker, with: "SELECT pg_sleep(100000);\n\n" + marker)
            .write(toFile: (backups as NSString).appendingPathComponent("shop.sql"), atomically: true, encoding: .utf8)
        let json = ConfigFixture.drill(location: backups, checks: ConfigFixture.shopChecks(orders: Shop.orders))
            .replacingOccurrences(of: #""profile": "fast""#, with: #""profile": "fast", "timeout": "15s""#)
        #expect(json.contains(#""timeout": "15s""#))
        let config = try ConfigFixture(in: folder, drills: ["shop": json])
        let archive = folder.sub("archive")
        // The suite's one-minute limit is the "well under a minute": pg_sleep(100000) would run for 27 hours. 15 s, not
        // 5 s: on a loaded 2-core machine provisioning alone can take seconds, and the limit must find the restore running.
        let r = try await DrillBinary.run(["run", "shop", "--config", config.directory, "--archive", archive],
                                          environment: ["TMPDIR": folder.sub("scratch")])
        #expect(r.exitCode == 1, "\(r.output)")
        #expect(r.stdout.contains("NON-COMPLIANT"), "\(r.stdout)")
        #expect(r.stderr.contains("stopped after 15s (restore.timeout)"), "\(r.stderr)")
        let report = try #require(try await ReportArchive(storage: LocalArchiveStorage(root: archive)).reports().reports.first?.report)
        #expect(report.status == .nonCompliant)
        #expect(report.findings.contains { $0.hasPrefix("Stopped after 15s (restore.timeout)") }, "\(report.findings)")
        let rto = try #require(report.measured.rtoSeconds)
        #expect(rto >= 15, "the RTO so far is at least the time limit: \(rto)")
        #expect(report.checks.isEmpty)
        #expect(report.phases.contains { $0.name == "restore" && !$0.ok })
        #expect(report.scratch.removed)
        expectNothingLeft(folder)
    }
}
