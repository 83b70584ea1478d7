import DrillCore
import DrillLive
import DrillTesting
import Foundation
import Testing

/// The audit report for a fleet: 60 drills over a year, rendered by `drill report` and checked in headless Chromium.
@Suite("Audit report for a fleet", .timeLimit(.minutes(5)))
struct FleetAuditTests {
    @Test("a matrix of drills × months, worst first; the drills nearest a target; collapsible per-drill charts on a readable scale; renders in Chromium")
    func fleetReport() async throws {
        let folder = TempFolder("fleet-audit")
        let dir = folder.path
        try FileManager.default.createDirectory(atPath: dir + "/drills", withIntermediateDirectories: true)
        try Data(#"{ "version": 1, "tiers": { "gold": { "rto": "1h", "rpo": "1h", "schedule": "@monthly" }, "bronze": { "rto": "24h", "rpo": "24h", "schedule": "@monthly" } } }"#.utf8)
            .write(to: URL(fileURLWithPath: dir + "/tiers.json"))
        let archive = ReportArchive(storage: LocalArchiveStorage(root: dir + "/archive"))
        var reports: [DrillReport] = []
        for i in 0..<60 {
            let name = String(format: "db%02d", i), tier = i % 2 == 0 ? "gold" : "bronze"
            try Data("{ \"version\": 1, \"tier\": \"\(tier)\", \"backup\": { \"location\": \"/backups/\(name)\" } }".utf8)
                .write(to: URL(fileURLWithPath: dir + "/drills/\(name).json"))
            let target: Int64 = tier == "gold" ? 3600 : 86_400
            for month in 1...11 {
                // db07 fails in March and July; db13 misses May; db21 runs at 90% of its RTO; the rest are tiny against
                // their targets (a few seconds against hours).
                if name == "db13" && month == 5 { continue }
                let status: DrillStatus = name == "db07" && (month == 3 || month == 7) ? .failed : .compliant
                let rto: Double? = status == .failed ? nil : name == "db21" ? Double(target) * 0.9 : 4 + Double(month % 3)
                reports.append(ReportFixtures.report(drill: name, tier: tier, status: status,
                                                     startedAt: ReportFixtures.date(String(format: "2026-%02d-02T03:00:00Z", month))
                                                         .addingTimeInterval(Double(i) * 60),
                                                     rto: rto, rpo: status == .failed ? nil : 600, rtoTarget: target, rpoTarget: target))
            }
        }
        for r in reports.sorted(by: { $0.startedAt < $1.startedAt }) { try await archive.append(r) }
        let html = dir + "/audit.html"
        let made = try await DrillBinary.run(["report", "--config", dir, "--period", "2026", "--output", html])
        #expect(made.exitCode == 0, "\(made.output)")
        let text = try String(contentsOfFile: html, encoding: .utf8)
        #expect(text.contains("<h2>Fleet at a glance</h2>"))
        // Worst first: db07 (two failures) before db13 (a missed month) before any clean drill.
        let row = { (d: String) in text.range(of: "<tr><td>\(d)</td>")?.lowerBound }
        let (r07, r13, r00) = (try #require(row("db07")), try #require(row("db13")), try #require(row("db00")))
        #expect(r07 < r13 && r13 < r00)
        #expect(text.contains("title=\"db07 2026-03: failed\""))
        #expect(text.contains("title=\"db13 2026-05: missed\""))
        // Nearest a target: db21 at 90% of its RTO heads the headroom table.
        let headroom = try #require(text.range(of: "<h2>Closest to a target</h2>"))
        #expect(text[headroom.upperBound...].range(of: "<td>db21</td>")?.lowerBound
                    == text[headroom.upperBound...].range(of: "<td>db")?.lowerBound, "db21 is the first drill in the headroom table")
        #expect(text.contains("90.0%"))
        // Tiny values against an hour-long target: the scale follows the values and names the target off scale.
        #expect(text.contains("off scale"))
        #expect(text.components(separatedBy: "<details").count - 1 == 60)
        let png = dir + "/audit.png"
        let shot = try ToolProcess.run(ToolProcess.packageRoot + "/scripts/render-audit-report.sh", [html, png])
        #expect(shot.status == 0, "\(shot.stdout)\(shot.stderr)")
        let md = dir + "/audit.md"
        #expect(try await DrillBinary.run(["report", "--config", dir, "--period", "2026", "--output", md]).exitCode == 0)
        #expect(try String(contentsOfFile: md, encoding: .utf8).contains("## Fleet at a glance"))
        folder.remove()
    }
}
