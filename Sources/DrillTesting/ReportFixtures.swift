import DrillCore
import DrillLive
import Foundation

/// `DrillReport` values built in code, for tests of the archive, audit, schedule, metrics and alerts.
///
/// The report model has no public memberwise initialiser, so a template is decoded from JSON (which also keeps the
/// fixtures honest about the schema) and its public fields are then set.
public enum ReportFixtures {
    /// The live SHA-256, as a `DigestFunction`.
    public static let sha256: DigestFunction = { SHA256Hasher.hex(of: $0) }

    /// UTC instant from `2026-11-28T07:30:00Z`-style text (crashes on a typo: fixtures are constants).
    public static func date(_ text: String) -> Date {
        guard let d = RFC3339.parse(text) else { fatalError("bad fixture date \(text)") }
        return d
    }

    /// A report with sensible defaults; `rto`/`rpo` nil means "not measured".
    public static func report(
        drill: String = "shop", tier: String = "gold", status: DrillStatus = .compliant,
        startedAt: Date = date("2026-11-28T07:30:00Z"), durationSeconds: Double = 120,
        rto: Double? = 95, rpo: Double? = 600, rtoTarget: Int64 = 900, rpoTarget: Int64 = 3_600,
        checks: [DrillReport.Check]? = nil, findings: [String]? = nil
    ) -> DrillReport {
        var r = template
        r.drill = drill
        r.tier = tier
        r.status = status
        r.startedAt = startedAt
        r.finishedAt = startedAt.addingTimeInterval(durationSeconds)
        r.target.rtoSeconds = rtoTarget
        r.target.rpoSeconds = rpoTarget
        r.measured.rtoSeconds = rto
        r.measured.rpoSeconds = rpo
        r.measured.recoveryPoint = rpo.map { startedAt.addingTimeInterval(-$0) }
        r.measured.recoveryPointSource = rpo == nil ? nil : "archive_header"
        r.backup.uri = "file:///backups/\(drill)/latest.dump"
        r.backup.sourceDatabase = drill
        r.scratch.database = "drill_\(drill)"
        r.environment.configFile = "drills/\(drill).json"
        let rtoOrMinute = rto ?? 60
        r.phases[1].seconds = max(0, rtoOrMinute - 10)
        r.phases[1].ok = status != .failed
        r.phases[2].startOffsetSeconds = max(5, rtoOrMinute - 5)
        r.phases[2].ok = status == .compliant
        if let checks {
            r.checks = checks
        } else {
            r.checks[0].passed = status != .nonCompliant
            if status == .failed || status == .aborted { r.checks = [] }
        }
        r.findings = findings ?? (status == .compliant ? [] : ["\(status.rawValue) finding for \(drill)"])
        return r
    }

    /// A check result.
    public static func check(_ name: String, passed: Bool, observed: String? = "1", error: String? = nil) -> DrillReport.Check {
        var c = template.checks[0]
        c.name = name
        c.passed = passed
        c.observed = observed
        c.error = error
        return c
    }

    static let template: DrillReport = {
        let json = """
        {
          "schema_version": 1, "drill": "shop", "tier": "gold", "status": "compliant",
          "started_at": "2026-11-28T07:30:00.000Z", "finished_at": "2026-11-28T07:32:00.000Z",
          "target": {"rto_seconds": 900, "rpo_seconds": 3600},
          "measured": {"rto_seconds": 95, "rpo_seconds": 600},
          "backup": {"uri": "file:///backups/shop/latest.dump", "name": "latest.dump", "format": "custom",
                     "size_bytes": 1024, "sidecar": "absent", "source_database": "shop", "source_server_version": "15.8",
                     "pg_dump_version": "15.8"},
          "restore": {"jobs": 2, "profile": "durable", "mode": "file", "tool": "pg_restore", "tool_version": "15.8"},
          "phases": [
            {"name": "fetch", "start_offset_seconds": 0, "seconds": 5, "ok": true},
            {"name": "restore", "start_offset_seconds": 5, "seconds": 85, "ok": true},
            {"name": "checks", "start_offset_seconds": 90, "seconds": 5, "ok": true}
          ],
          "checks": [
            {"name": "orders exist", "sql": "select count(*) from orders", "expected": "> 0", "observed": "42",
             "rows": 1, "passed": true, "seconds": 0.01}
          ],
          "findings": [],
          "scratch": {"kind": "embedded", "database": "drill_shop", "removed": true, "kept": false, "teardown_seconds": 1},
          "environment": {"drill_version": "0.1.0", "host": "test-host", "server_version": "15.8", "config_file": "drills/shop.json"}
        }
        """
        do {
            return try DrillReport.decoder().decode(DrillReport.self, from: Data(json.utf8))
        } catch {
            fatalError("the report fixture template no longer decodes: \(error)")
        }
    }()
}
