import DrillCore
import Foundation

/// A year of drill history (2026) for report, metrics and rendering tests: three drills in two monthly tiers, one
/// with an RTO creeping towards its target, a failed run, a non-compliant run, a missed month, and findings with
/// HTML in them.
public enum DemoArchive {
    public static let tiersJSON = """
        { "version": 1,
          "tiers": {
            "gold":   { "rto": "15m", "rpo": "1h",  "schedule": "@monthly" },
            "silver": { "rto": "2h",  "rpo": "24h", "schedule": "@monthly" } } }
        """

    public static let drills = [("shop", "gold"), ("billing", "gold"), ("wiki", "silver")]

    /// Writes `tiers.json` and `drills/*.json` into `dir`, with an optional webhook on tier gold.
    public static func writeConfig(to dir: String, webhook: String? = nil) throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: dir + "/drills", withIntermediateDirectories: true)
        var tiers = tiersJSON
        if let webhook { tiers = tiers.replacingOccurrences(of: "\"schedule\": \"@monthly\" },\n", with: "\"schedule\": \"@monthly\", \"alerts\": { \"webhook\": \"\(webhook)\" } },\n") }
        try Data(tiers.utf8).write(to: URL(fileURLWithPath: dir + "/tiers.json"))
        for (name, tier) in drills {
            let json = "{ \"version\": 1, \"tier\": \"\(tier)\", \"backup\": { \"location\": \"/backups/\(name)\" } }"
            try Data(json.utf8).write(to: URL(fileURLWithPath: dir + "/drills/\(name).json"))
        }
    }

    /// The reports, oldest first, January to November 2026 (`now` is then 2026-11-20).
    public static func reports() -> [DrillReport] {
        var out: [DrillReport] = []
        for month in 1...11 {
            let day = String(format: "2026-%02d-01T02:%02d:00Z", month, 0)
            let start = ReportFixtures.date(day)
            // shop: RTO creeping up from 6 to 13 minutes, under a 15-minute target: time to breach.
            let shopRTO = 360.0 + Double(month - 1) * 45
            out.append(ReportFixtures.report(drill: "shop", tier: "gold", startedAt: start, rto: shopRTO,
                                             rpo: 900 + Double(month % 3) * 300, rtoTarget: 900, rpoTarget: 3_600))
            // billing: missed in June, failed in March, non-compliant (RPO) in September.
            if month != 6 {
                let status: DrillStatus = month == 3 ? .failed : month == 9 ? .nonCompliant : .compliant
                out.append(ReportFixtures.report(
                    drill: "billing", tier: "gold", status: status, startedAt: start.addingTimeInterval(600),
                    rto: status == .failed ? nil : 300, rpo: status == .failed ? nil : month == 9 ? 5_400 : 1_200,
                    rtoTarget: 900, rpoTarget: 3_600,
                    findings: status == .failed ? ["backup not found: no file matching \"billing-*.dump\" <script>alert(1)</script>"]
                        : status == .nonCompliant ? ["RPO 1h 30m is over the target 1h & the check \"fresh\" failed"] : nil))
            }
            // wiki: steady.
            out.append(ReportFixtures.report(drill: "wiki", tier: "silver", startedAt: start.addingTimeInterval(1_200),
                                             rto: 1_800 + Double(month % 2) * 120, rpo: 20_000, rtoTarget: 7_200, rpoTarget: 86_400))
        }
        return out
    }

    public static let now = ReportFixtures.date("2026-11-20T00:00:00Z")
}
