import Foundation

/// The audit report as one self-contained HTML file: inline CSS and SVG, no external assets, no JavaScript. Every
/// value that comes from configuration or reports is escaped.
public enum AuditHTML {
    public static func render(_ a: AuditReport) -> String {
        let e = XML.escape
        var h = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(e(a.title))</title>
            <style>\(css)</style></head><body>
            <h1>\(e(a.title))</h1>
            <p class="meta">Period \(e(RFC3339.format(a.range.range.lowerBound))) to \(e(RFC3339.format(a.range.range.upperBound))) · generated \(e(RFC3339.format(a.generatedAt))) · archive <code>\(e(a.archiveLocation))</code></p>

            """
        h += "<h2>Archive integrity</h2>\n"
        if a.chain.intact {
            h += "<p class=\"good\">Hash chain intact: \(a.chain.entries) report\(a.chain.entries == 1 ? "" : "s") verified."
            if let head = a.chain.head { h += " Head SHA-256 <code>\(e(head))</code>." }
            h += "</p>\n"
        } else {
            h += "<p class=\"bad\">Hash chain BROKEN: \(a.chain.issues.count) problem\(a.chain.issues.count == 1 ? "" : "s"). First: \(e(a.chain.issues[0].description))</p>\n<ul>"
            for i in a.chain.issues { h += "<li>\(e(i.description))</li>" }
            h += "</ul>\n"
        }
        h += "<h2>Compliance by tier</h2>\n<table><thead><tr><th>Tier</th><th>Runs</th><th>Compliant</th><th>Missed</th><th>Compliance rate</th></tr></thead><tbody>\n"
        for t in a.tiers {
            let rate = t.rate.map { String(format: "%.1f%%", $0 * 100) } ?? "—"
            h += "<tr><td>\(e(t.tier))</td><td>\(t.runs)</td><td>\(t.compliant)</td><td>\(t.missed)</td><td class=\"\(t.rate.map { $0 >= 1 ? "good" : "bad" } ?? "")\">\(rate)</td></tr>\n"
        }
        h += "</tbody></table>\n<p class=\"note\">Compliance rate = compliant runs / (runs + missed schedule periods).</p>\n"
        if let fleet = a.fleet { h += fleetSection(fleet) }
        h += "<h2>Drills</h2>\n"
        let order = a.fleet.map { f in Dictionary(uniqueKeysWithValues: f.rows.enumerated().map { ($1.drill, $0) }) } ?? [:]
        for d in a.drills.sorted(by: { (order[$0.drill] ?? 0, $0.drill) < (order[$1.drill] ?? 0, $1.drill) }) {
            let troubled = d.missed > 0 || d.runs.contains { $0.status != .compliant } || d.trend?.runsToBreach != nil
            h += "<details\(troubled || a.drills.count <= 10 ? " open" : "")><summary><h3>\(e(d.drill)) <span class=\"tier\">\(e(d.tier))</span></h3></summary><section>\n"
            h += "<p>\(d.runs.count) run\(d.runs.count == 1 ? "" : "s"), \(d.runs.filter { $0.status == .compliant }.count) compliant, \(d.missed) missed. Targets: RTO \(e(DrillDuration(seconds: Int64(d.rtoTarget)).description)), RPO \(e(DrillDuration(seconds: Int64(d.rpoTarget)).description)).</p>\n"
            h += "<div class=\"charts\">"
            h += SVGChart.render(title: "RTO per run (target \(DrillDuration(seconds: Int64(d.rtoTarget))))", points: d.runs.map { .init(date: $0.startedAt, value: $0.measured.rtoSeconds) }, target: d.rtoTarget)
            h += SVGChart.render(title: "RPO per run (target \(DrillDuration(seconds: Int64(d.rpoTarget))))", points: d.runs.map { .init(date: $0.startedAt, value: $0.measured.rpoSeconds) }, target: d.rpoTarget)
            h += "</div>\n<p class=\"\(d.trend?.runsToBreach != nil ? "warn" : "trend")\">\(e(d.trendSentence))</p></section></details>\n"
        }
        h += "<h2>Failed, non-compliant, aborted and missed drills</h2>\n"
        if a.problems.isEmpty {
            h += "<p class=\"good\">None in this period.</p>\n"
        } else {
            h += "<table><thead><tr><th>Date</th><th>Drill</th><th>Tier</th><th>Outcome</th><th>Findings</th></tr></thead><tbody>\n"
            for p in a.problems {
                let findings = p.findings.isEmpty ? e(p.detail) : "<ul>" + p.findings.map { "<li>\(e($0))</li>" }.joined() + "</ul>"
                h += "<tr><td>\(p.date.map { e(RFC3339.format($0)) } ?? "—")</td><td>\(e(p.drill))</td><td>\(e(p.tier))</td><td class=\"bad\">\(e(p.kind.rawValue))</td><td>\(findings)</td></tr>\n"
            }
            h += "</tbody></table>\n"
        }
        return h + "</body></html>\n"
    }

    /// The matrix of drills × periods (worst drills first) and the drills closest to a target.
    static func fleetSection(_ f: FleetOverview) -> String {
        let e = XML.escape
        var h = "<h2>Fleet at a glance</h2>\n<p class=\"note\">Each cell is the worst outcome of the drill in the period; worst drills first. "
        h += "<span class=\"c compliant\">✓</span> compliant <span class=\"c non-compliant\">!</span> non-compliant "
        h += "<span class=\"c failed\">✗</span> failed <span class=\"c missed\">∅</span> missed <span class=\"c aborted\">–</span> aborted "
        h += "<span class=\"c none\">·</span> no run due.</p>\n<div class=\"matrix\"><table class=\"m\"><thead><tr><th>Drill</th><th>Tier</th>"
        for p in f.periods { h += "<th>\(e(p.label))</th>" }
        h += "</tr></thead><tbody>\n"
        let symbol: [FleetOverview.Outcome: String] = [.compliant: "✓", .nonCompliant: "!", .failed: "✗", .missed: "∅", .aborted: "–", .none: "·"]
        for row in f.rows {
            h += "<tr><td>\(e(row.drill))</td><td>\(e(row.tier))</td>"
            for (i, c) in row.cells.enumerated() {
                h += "<td class=\"c \(c.rawValue)\" title=\"\(e(row.drill)) \(e(f.periods[i].label)): \(c.rawValue)\">\(symbol[c] ?? "")</td>"
            }
            h += "</tr>\n"
        }
        h += "</tbody></table></div>\n"
        h += "<h2>Closest to a target</h2>\n"
        if f.headroom.isEmpty { return h + "<p>No drill has restored in this period.</p>\n" }
        h += "<p class=\"note\">The latest measured RTO and RPO as a share of the tier's target (100% is the target), and drills whose RTO trend crosses it soon.</p>\n"
        h += "<table><thead><tr><th>Drill</th><th>Tier</th><th>RTO / target</th><th>RPO / target</th><th>Trend</th></tr></thead><tbody>\n"
        func pct(_ r: Double?) -> String { r.map { String(format: "%.1f%%", $0 * 100) } ?? "—" }
        for x in f.headroom {
            let trend = x.runsToBreach.map { "breach within \($0) run\($0 == 1 ? "" : "s")" } ?? "—"
            h += "<tr><td>\(e(x.drill))</td><td>\(e(x.tier))</td><td class=\"\((x.rtoRatio ?? 0) > 1 ? "bad" : "")\">\(pct(x.rtoRatio))</td><td class=\"\((x.rpoRatio ?? 0) > 1 ? "bad" : "")\">\(pct(x.rpoRatio))</td><td class=\"\(x.runsToBreach != nil ? "warn" : "")\">\(trend)</td></tr>\n"
        }
        return h + "</tbody></table>\n"
    }

    static let css = """
        body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em auto;max-width:960px;color:#222;padding:0 1em}
        h1{font-size:1.6em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}
        table{border-collapse:collapse;width:100%}th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
        th{background:#f4f4f4}td ul{margin:0;padding-left:1.2em}code{font-size:.9em;word-break:break-all}
        .meta,.note{color:#666}.good{color:#17692b}.bad{color:#b3261e;font-weight:600}.warn{color:#8a5300;font-weight:600}
        .tier{font-size:.7em;color:#555;background:#eee;border-radius:4px;padding:1px 6px}
        .charts{display:flex;flex-wrap:wrap;gap:12px}svg{background:#fafafa;border:1px solid #eee}
        .ct{font-size:12px;fill:#333}.axis{stroke:#999}.target{stroke:#b3261e;stroke-dasharray:5 4}
        .yl{font-size:10px;fill:#666;text-anchor:end}.tl{fill:#b3261e}.xl{font-size:10px;fill:#666}.end{text-anchor:end}.mid{text-anchor:middle}
        .matrix{overflow-x:auto}table.m td,table.m th{padding:2px 5px;text-align:center;white-space:nowrap}
        table.m td:first-child,table.m td:nth-child(2){text-align:left}.c{font-weight:700}
        .c.compliant{background:#dff3e3;color:#17692b}.c.non-compliant{background:#fff1d6;color:#8a5300}
        .c.failed{background:#fbdcd9;color:#b3261e}.c.missed{background:#f3d9f0;color:#7a1f6e}.c.aborted{background:#e8e8e8;color:#555}
        .c.none{color:#bbb}details summary{cursor:pointer}details summary h3{display:inline}
        .series{fill:none;stroke:#3366cc;stroke-width:2}.ok{fill:#3366cc}.over{fill:#b3261e}.miss{fill:#b3261e;font-size:14px;text-anchor:middle}
        """
}
