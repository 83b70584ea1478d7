import DrillCore
import DrillLive
import DrillTesting
import Foundation
import Testing

/// The audit outputs checked by the tools that consume them: promtool, junitparser, headless Chromium, and the
/// `drill` executable itself on a real archive folder.
@Suite("Audit outputs against real tools", .serialized)
struct AuditToolsTests {
    /// A local archive holding the demo year, appended through the chain.
    func demoArchive() async throws -> (folder: TempFolder, dir: String, archive: ReportArchive) {
        let folder = TempFolder("audit")
        let dir = folder.path
        try DemoArchive.writeConfig(to: dir)
        let archive = ReportArchive(storage: LocalArchiveStorage(root: dir + "/archive"))
        for r in DemoArchive.reports() { try await archive.append(r) }
        return (folder, dir, archive)
    }

    @Test func promtoolAcceptsTheMetricsFile() async throws {
        let (folder, dir, archive) = try await demoArchive()
        defer { folder.remove() }
        let reports = try await archive.reports().reports.map(\.report)
        let path = dir + "/drill.prom"
        try AtomicFile.write(Data(PrometheusMetrics.render(reports: reports).utf8), to: path)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains("drill_compliant{drill=\"billing\",tier=\"gold\"} 1"))
        let check = try ToolProcess.run("/usr/bin/promtool", ["check", "metrics"], input: Data(text.utf8))
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        #expect(check.stdout.isEmpty && check.stderr.isEmpty, "promtool lint: \(check.stdout)\(check.stderr)")
        // And a broken file is rejected, so the check above means something.
        let broken = try ToolProcess.run("/usr/bin/promtool", ["check", "metrics"], input: Data((text + "drill_rto_seconds{drill=\"x\" 1\n").utf8))
        #expect(broken.status != 0)
    }

    @Test func junitparserReadsTheJUnitFile() async throws {
        let folder = TempFolder("junit")
        defer { folder.remove() }
        let dir = folder.path
        let reports = Array(DemoArchive.reports().suffix(9))  // includes billing's non-compliant September
        let path = dir + "/junit.xml"
        try AtomicFile.write(Data(JUnitReport.render(reports).utf8), to: path)
        let script = """
            import sys, json
            from junitparser import JUnitXml
            xml = JUnitXml.fromfile(sys.argv[1])
            out = []
            for suite in xml:
                cases = list(suite)
                out.append({"suite": suite.name, "cases": len(cases), "failed": sum(1 for c in cases if not c.is_passed)})
            print(json.dumps(out))
            """
        let r = try ToolProcess.run("/usr/bin/env", ["python3", "-c", script, path])
        #expect(r.status == 0, "\(r.stderr)")
        let suites = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]] ?? []
        #expect(suites.count == 9)
        let nonCompliant = suites.first { ($0["suite"] as? String) == "billing" && ($0["failed"] as? Int ?? 0) > 0 }
        #expect(nonCompliant?["cases"] as? Int == 3)  // one check + RTO + RPO
        #expect(suites.filter { ($0["failed"] as? Int ?? 0) > 0 }.count == 1)
    }

    @Test func archiveVerifyExitCodes() async throws {
        let (folder, dir, archive) = try await demoArchive()
        defer { folder.remove() }
        let ok = try await DrillBinary.run(["archive", "verify", "--archive", dir + "/archive"])
        #expect(ok.exitCode == 0, "\(ok.stdout)\(ok.stderr)")
        #expect(ok.stdout.contains("intact: 32 reports"))
        let victim = try await archive.reports().reports[5].path
        let file = dir + "/archive/" + victim
        var bytes = try Data(contentsOf: URL(fileURLWithPath: file))
        bytes[bytes.count / 2] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: file))
        let bad = try await DrillBinary.run(["archive", "verify", "--archive", dir + "/archive"])
        #expect(bad.exitCode == 1)
        #expect(bad.stdout.contains("first problem: edited: \(victim)"), "\(bad.stdout)")
    }

    @Test func htmlAuditReportRendersInHeadlessChromium() async throws {
        let (folder, dir, _) = try await demoArchive()
        defer { folder.remove() }
        let html = dir + "/audit.html"
        let made = try await DrillBinary.run(["report", "--config", dir, "--period", "2026", "--output", html])
        #expect(made.exitCode == 0, "\(made.stdout)\(made.stderr)")
        let text = try String(contentsOfFile: html, encoding: .utf8)
        #expect(!text.contains("<script"))  // the finding's <script> is escaped, and there is no JavaScript
        #expect(text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(!text.contains("src=\"http") && !text.contains("href=\"http"))  // no external assets
        #expect(text.contains("Time to breach"))
        #expect(text.contains("missed"))
        // Every inline SVG is well-formed XML.
        let svgCheck = try ToolProcess.run("/usr/bin/env", ["python3", "-c", """
            import re, sys, xml.dom.minidom
            svgs = re.findall(r"<svg.*?</svg>", open(sys.argv[1]).read(), re.S)
            for s in svgs: xml.dom.minidom.parseString(s)
            print(len(svgs))
            """, html])
        #expect(svgCheck.status == 0, "\(svgCheck.stderr)")
        #expect(svgCheck.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "6")
        let png = dir + "/audit.png"
        let shot = try ToolProcess.run(ToolProcess.packageRoot + "/scripts/render-audit-report.sh", [html, png])
        #expect(shot.status == 0, "\(shot.stdout)\(shot.stderr)")
        let size = (try? FileManager.default.attributesOfItem(atPath: png)[.size] as? Int) ?? 0
        #expect(size > 10_000)
        let md = dir + "/audit.md"
        #expect(try await DrillBinary.run(["report", "--config", dir, "--since", "12m", "--output", md]).exitCode == 0)
        #expect(try String(contentsOfFile: md, encoding: .utf8).contains("## Compliance by tier"))
    }

    @Test func concurrentRunsInSeparateProcessesDoNotForkTheChain() async throws {
        let folder = TempFolder("fork")
        defer { folder.remove() }
        try DemoArchive.writeConfig(to: folder.path)  // backups under /backups/… do not exist: each drill fails fast
        let archive = folder.path + "/archive"
        // Six processes at once (not a shell loop: a shell spawned from the test process inherits its blocked
        // signal mask, so its `wait` would never see SIGCHLD).
        let runs = (0..<6).map { _ in
            let p = Process()
            p.executableURL = URL(fileURLWithPath: DrillBinary.path)
            p.arguments = ["run", "--all", "--config", folder.path, "--archive", archive]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            p.standardInput = FileHandle.nullDevice
            return p
        }
        for p in runs { try p.run() }
        for p in runs { p.waitUntilExit() }
        #expect(runs.allSatisfy { $0.terminationStatus == 3 })  // every drill failed (no backup), none crashed
        let v = try await ReportArchive(storage: LocalArchiveStorage(root: archive)).verify()
        #expect(v.intact, "\(v.issues)")
        #expect(v.entries == 18 && v.reports == 18)  // 6 processes × 3 drills, one chain
    }
}
