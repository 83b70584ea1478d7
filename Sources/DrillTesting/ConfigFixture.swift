import DrillCore
import Foundation

/// Writes a config folder (`tiers.json` + `drills/*.json`) for a test.
public struct ConfigFixture {
    public let directory: String

    public static let standardTiers = """
        { "version": 1,
          "tiers": {
            "critical":  { "rto": "1h",  "rpo": "5m",  "schedule": "@monthly" },
            "important": { "rto": "4h",  "rpo": "1h",  "schedule": "@monthly" },
            "standard":  { "rto": "24h", "rpo": "24h", "schedule": "@monthly" } } }
        """

    public init(in folder: TempFolder, tiers: String = ConfigFixture.standardTiers, drills: [String: String]) throws {
        directory = folder.sub("config")
        try tiers.write(toFile: (directory as NSString).appendingPathComponent("tiers.json"), atomically: true, encoding: .utf8)
        let d = (directory as NSString).appendingPathComponent("drills")
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        for (name, json) in drills {
            try json.write(toFile: (d as NSString).appendingPathComponent("\(name).json"), atomically: true, encoding: .utf8)
        }
    }

    /// A drill file body restoring from `location`, with the given checks (JSON array text). `settle` is
    /// `backup.settle`: "0s" by default, because a test's backups are complete when its drill runs, though just
    /// copied; nil leaves the key out (drill's default, 60 s).
    public static func drill(tier: String = "critical", location: String, pattern: String? = nil, format: String = "auto",
                             target: String = #"{ "kind": "embedded" }"#, jobs: Int = 2, profile: String = "fast",
                             checks: String = "[]", settle: String? = "0s") -> String {
        """
        { "version": 1, "tier": "\(tier)",
          "backup": { "location": "\(location)"\(pattern.map { #", "pattern": "\#($0)""# } ?? ""), "format": "\(format)"\(settle.map { #", "settle": "\#($0)""# } ?? "") },
          "target": \(target),
          "restore": { "jobs": \(jobs), "profile": "\(profile)" },
          "checks": \(checks) }
        """
    }

    /// Checks that see the shop's row counts.
    public static func shopChecks(orders: Int) -> String {
        """
        [ { "name": "accounts restored", "sql": "SELECT count(*) FROM pgbench_accounts", "expect": { "equals": 100000 } },
          { "name": "orders restored", "sql": "SELECT count(*) FROM orders", "expect": { "equals": \(orders) } },
          { "name": "no negative balances", "sql": "SELECT count(*) FROM pgbench_accounts WHERE abalance < 0", "expect": { "equals": 0 } } ]
        """
    }

    public func load() throws -> ConfigFolder { try ConfigFolder.load(from: directory) }
}
