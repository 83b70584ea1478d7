import Foundation

/// The audit report in Markdown: the same sections as `AuditHTML`, with tables in place of charts.
public enum AuditMarkdown {
    public static func render(_ a: AuditReport) -> String {
        let e = MarkdownReport.escape
        var m = "# \(e(a.title))\n\n"
        m += "Period \(RFC3339.format(a.range.range.lowerBound)) to \(RFC3339.format(a.range.range.upperBound)); generated \(RFC3339.format(a.generatedAt)); archive `\(a.archiveLocation)`.\n\n"
        m += "## Archive integrity\n\n"
        if a.chain.intact {
            m += "Hash chain intact: \(a.chain.entries) report\(a.chain.entries == 1 ? "" : "s") verified."
            m += a.chain.head.map { " Head SHA-256 `\($0)`.\n\n" } ?? "\n\n"
        } else {
            m += "**Hash chain BROKEN** (\(a.chain.issues.count) problem\(a.chain.issues.count == 1 ? "" : "s")):\n\n"
            m += a.chain.issues.map { "- \(e($0.description))" }.joined(separator: "\n") + "\n\n"
        }
        m += "## Compliance by tier\n\n| Tier | Runs | Compliant | Missed | Compliance rate |\n|---|---|---|---|---|\n"
        for t in a.tiers {
            m += "| \(e(t.tier)) | \(t.runs) | \(t.compliant) | \(t.missed) | \(t.rate.map { String(format: "%.1f%%", $0 * 100) } ?? "—") |\n"
        }
        m += "\nCompliance rate = compliant runs / (runs + missed schedule periods).\n\n"
        if let f = a.fleet {
            let symbol: [FleetOverview.Outcome: String] = [.compliant: "✓", .nonCompliant: "!", .failed: "✗", .missed: "∅", .aborted: "–", .none: "·"]
            m += "## Fleet at a glance\n\nThe worst outcome per period, worst drills first: ✓ compliant, ! non-compliant, ✗ failed, ∅ missed, – aborted, · no run due.\n\n"
            m += "| Drill | Tier | " + f.periods.map(\.label).joined(separator: " | ") + " |\n|---|---|" + String(repeating: "---|", count: f.periods.count) + "\n"
            for row in f.rows {
                m += "| \(e(row.drill)) | \(e(row.tier)) | " + row.cells.map { symbol[$0] ?? "" }.joined(separator: " | ") + " |\n"
            }
            if !f.headroom.isEmpty {
                m += "\n## Closest to a target\n\n| Drill | Tier | RTO / target | RPO / target | Trend |\n|---|---|---|---|---|\n"
                func pct(_ r: Double?) -> String { r.map { String(format: "%.1f%%", $0 * 100) } ?? "—" }
                for x in f.headroom {
                    m += "| \(e(x.drill)) | \(e(x.tier)) | \(pct(x.rtoRatio)) | \(pct(x.rpoRatio)) | \(x.runsToBreach.map { "breach within \($0) runs" } ?? "—") |\n"
                }
            }
            m += "\n"
        }
        m += "## Drills\n"
        for d in a.drills {
            m += "\n### \(e(d.drill)) (\(e(d.tier)))\n\n"
            m += "Targets: RTO \(DrillDuration(seconds: Int64(d.rtoTarget))), RPO \(DrillDuration(seconds: Int64(d.rpoTarget))). \(d.missed) missed.\n\n"
            if d.runs.isEmpty {
                m += "No runs in this period.\n"
            } else {
                m += "| Date | Status | RTO | RPO |\n|---|---|---|---|\n"
                for r in d.runs {
                    m += "| \(RFC3339.format(r.startedAt)) | \(MarkdownReport.verdict(r.status)) | \(cell(r.measured.rtoSeconds, d.rtoTarget)) | \(cell(r.measured.rpoSeconds, d.rpoTarget)) |\n"
                }
            }
            m += "\n\(d.trend?.runsToBreach != nil ? "**\(e(d.trendSentence))**" : e(d.trendSentence))\n"
        }
        m += "\n## Failed, non-compliant, aborted and missed drills\n\n"
        if a.problems.isEmpty { return m + "None in this period.\n" }
        for p in a.problems {
            m += "- \(p.date.map { RFC3339.format($0) } ?? "—") **\(e(p.drill))** (\(e(p.tier))): \(p.kind.rawValue) — \(e(p.detail))\n"
            for f in p.findings { m += "  - \(e(f))\n" }
        }
        return m
    }

    static func cell(_ v: Double?, _ target: Double) -> String {
        guard let v else { return "—" }
        return v > target ? "**\(formatSeconds(v))** (over)" : formatSeconds(v)
    }
}
