import Foundation

/// `drill history`: past runs, newest last, as a terminal table.
public enum History {
    public static func select(_ reports: [DrillReport], range: Range<Date>?, tier: String?, drill: String?) -> [DrillReport] {
        reports.filter { r in
            (range.map { $0.contains(r.startedAt) } ?? true) && (tier.map { $0 == r.tier } ?? true) && (drill.map { $0 == r.drill } ?? true)
        }.sorted { $0.startedAt < $1.startedAt }
    }

    public static func table(_ reports: [DrillReport]) -> String {
        var rows = [["DATE (UTC)", "DRILL", "TIER", "STATUS", "RTO / TARGET", "RPO / TARGET"]]
        for r in reports {
            rows.append([String(RFC3339.format(r.startedAt).dropLast().replacingOccurrences(of: "T", with: " ")), r.drill, r.tier,
                         MarkdownReport.verdict(r.status),
                         measure(r.measured.rtoSeconds, r.target.rtoSeconds), measure(r.measured.rpoSeconds, r.target.rpoSeconds)])
        }
        return TextTable.render(rows)
    }

    static func measure(_ v: Double?, _ target: Int64) -> String {
        let t = DrillDuration(seconds: target).description
        guard let v else { return "— / \(t)" }
        return "\(formatSeconds(v)) / \(t)\(v > Double(target) ? " OVER" : "")"
    }
}
