import DrillCore
import DrillLive
import DrillTesting
import Foundation
import Testing

/// `restore.timeout` on a real restore that hangs: a plain dump with `SELECT pg_sleep(100000);` in it.
@Suite("Drill time limit", .timeLimit(.minutes(2)))
struct TimeLimitTests {
    @Test("a hanging restore with restore.timeout 30s is stopped, torn down and reported non-compliant (exit 1)")
    func hangingRestore() async throws {
        let folder = TempFolder("timeout")
        let backups = folder.sub("backups")
        let sql = try String(contentsOfFile: try await Shop.shared.dump(.plain), encoding: .utf8)
        let marker = "-- PostgreSQL database dump complete"
        try sql.replacingOccurrences(of: marker, with: "SELECT pg_sleep(100000);\n\n" + marker)
            .write(toFile: (backups as NSString).appendingPathComponent("shop.sql"), atomically: true, encoding: .utf8)
        let json = ConfigFixture.drill(location: backups, checks: ConfigFixture.shopChecks(orders: Shop.orders))
            .replacingOccurrences(of: #""profile": "fast""#, with: #""profile": "fast", "timeout": "30s""#)
        #expect(json.contains(#""timeout": "30s""#))
        let config = try ConfigFixture(in: folder, drills: ["shop": json])
        let archive = folder.sub("archive")
        // pg_sleep(100000) would run for 27 hours; the run ends about 30 s in. 30 s, not 5 s: in the full suite on a
        // 2-core machine, provisioning the scratch cluster alone took over 15 s, and the limit must find the restore
        // running (the suite's two-minute limit bounds the whole test, the shared dump fixture included).
        let r = try await DrillBinary.run(["run", "shop", "--config", config.directory, "--archive", archive],
                                          environment: ["TMPDIR": folder.sub("scratch")])
        #expect(r.exitCode == 1, "\(r.output)")
        #expect(r.stdout.contains("NON-COMPLIANT"), "\(r.stdout)")
        #expect(r.stderr.contains("stopped after 30s (restore.timeout)"), "\(r.stderr)")
        let report = try #require(try await ReportArchive(storage: LocalArchiveStorage(root: archive)).reports().reports.first?.report)
        #expect(report.status == .nonCompliant)
        #expect(report.findings.contains { $0.hasPrefix("Stopped after 30s (restore.timeout)") }, "\(report.findings)")
        let rto = try #require(report.measured.rtoSeconds)
        #expect(rto >= 30, "the RTO so far is at least the time limit: \(rto)")
        #expect(report.checks.isEmpty)
        #expect(report.phases.contains { $0.name == "restore" && !$0.ok }, "phases \(report.phases.map { "\($0.name) \($0.seconds)" }): \(r.stderr)")
        #expect(report.scratch.removed)
        expectNothingLeft(folder)
    }
}
