import DrillCore
import Foundation
import Testing

@Suite("Reports, exit codes and the drill's state machine")
struct ReportTests {
    static func sample() -> DrillReport {
        let start = RFC3339.parse("2026-11-28T07:30:00Z")!
        return DrillReport(
            drill: "shop", tier: "critical", status: .nonCompliant, startedAt: start, finishedAt: start.addingTimeInterval(12.5),
            target: .init(rtoSeconds: 3600, rpoSeconds: 300),
            measured: .init(rtoSeconds: 10.25, rpoSeconds: 400, recoveryPoint: start.addingTimeInterval(-400), recoveryPointSource: "archive_header"),
            backup: .init(uri: "/srv/backups/shop-1.dump", name: "shop-1.dump", format: "custom", sizeBytes: 1234,
                          sha256: String(repeating: "0f", count: 32), sidecar: "match", createdAt: start.addingTimeInterval(-400)),
            restore: .init(jobs: 2, profile: .durable, mode: "file", tool: "pg_restore", toolVersion: "15.18"),
            phases: [.init(name: "fetch", startOffsetSeconds: 0, seconds: 0.5, ok: true),
                     .init(name: "provision", startOffsetSeconds: 0, seconds: 1.25, ok: true),
                     .init(name: "restore", startOffsetSeconds: 1.25, seconds: 8, ok: true),
                     .init(name: "checks", startOffsetSeconds: 9.25, seconds: 1, ok: false)],
            checks: [.init(name: "accounts | rows", sql: "SELECT count(*) FROM a", expected: "min 1", observed: "5", rows: 1, passed: true, seconds: 0.1),
                     .init(name: "fresh", sql: "SELECT max(t) FROM o", expected: "within rpo (5m)", observed: "2026-11-28 07:20:00+00",
                           rows: 1, passed: false, seconds: 0.1, error: "10m 0s old at the drill's start, limit 5m")],
            findings: ["Measured RPO 6m 40s exceeds the critical target of 5m: the newest backup is too old."],
            scratch: .init(kind: "embedded", database: "drill_shop_x", removed: true, kept: false, teardownSeconds: 0.2),
            environment: .init(drillVersion: "0.1.0", host: "db-drill-1", serverVersion: "15.18"))
    }

    @Test func jsonRoundTripsWithSnakeCaseKeys() throws {
        let r = Self.sample()
        let data = try r.jsonData()
        let text = String(decoding: data, as: UTF8.self)
        for key in ["\"schema_version\" : 1", "\"rto_seconds\"", "\"recovery_point_source\"", "\"size_bytes\"", "\"started_at\" : \"2026-11-28T07:30:00.000Z\""] {
            #expect(text.contains(key), "missing \(key)")
        }
        #expect(try DrillReport.decoder().decode(DrillReport.self, from: data) == r)
    }

    /// Golden file: the Markdown an auditor reads. Set UPDATE_GOLDEN=1 to rewrite it after an intended change.
    @Test func markdownMatchesGolden() throws {
        let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/report.md")
        let rendered = MarkdownReport.render(Self.sample())
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
            try rendered.write(to: golden, atomically: true, encoding: .utf8)
        }
        #expect(rendered == (try String(contentsOf: golden, encoding: .utf8)))
        #expect(rendered.contains("accounts \\| rows"), "table cells are escaped")
    }

    @Test(arguments: [([ExitCode.compliant, .nonCompliant], ExitCode.nonCompliant), ([.nonCompliant, .failed], .failed),
                      ([.failed, .interrupted], .interrupted), ([.interrupted, .usage], .usage), ([], .compliant),
                      ([.compliant, .compliant], .compliant)])
    func exitCodePrecedence(codes: [ExitCode], expected: ExitCode) {
        #expect(ExitCode.combine(codes) == expected)
    }

    @Test func statusMapsToExitCode() {
        #expect(ExitCode(DrillStatus.compliant) == .compliant)
        #expect(ExitCode(DrillStatus.nonCompliant).rawValue == 1)
        #expect(ExitCode(DrillStatus.failed).rawValue == 3)
        #expect(ExitCode(DrillStatus.aborted).rawValue == 130)
    }

    @Test func timestamps() {
        #expect(RFC3339.parse("2026-11-28T07:30:00+01:00") == RFC3339.parse("2026-11-28T06:30:00Z"))
        #expect(RFC3339.parse("2026-11-28T07:30:00") == nil, "an offset is required")
        #expect(PostgresTimestamp.parse("2026-11-28 07:30:00.5+00") == RFC3339.parse("2026-11-28T07:30:00.5Z"))
        #expect(PostgresTimestamp.parse("2026-11-28 07:30:00") == RFC3339.parse("2026-11-28T07:30:00Z"))
        #expect(PostgresTimestamp.parse("2026-11-28 07:30:00-05:30") == RFC3339.parse("2026-11-28T13:00:00Z"))
        #expect(PostgresTimestamp.parse("2026-11-28") == RFC3339.parse("2026-11-28T00:00:00Z"))
        #expect(RFC3339.compact(RFC3339.parse("2026-01-02T03:04:05Z")!) == "20260102T030405Z")
    }
}
