import DrillCore

/// Config folders built in code.
public enum ConfigFixtures {
    /// Tiers `(name, schedule)` with 15-minute RTO and 1-hour RPO, and drills `(name, tier)` on local backups.
    public static func folder(tiers: [(String, String)], drills: [(String, String)], webhook: String? = nil) -> ConfigFolder {
        var t: [String: TierConfig] = [:]
        for (name, schedule) in tiers {
            t[name] = TierConfig(name: name, rto: DrillDuration(seconds: 900), rpo: DrillDuration(seconds: 3_600),
                                 schedule: schedule, alerts: webhook.map { AlertsConfig(webhook: $0) })
        }
        let d = drills.map { DrillConfig(name: $0.0, file: "drills/\($0.0).json", tier: $0.1,
                                         backup: BackupConfig(location: "/backups/\($0.0)")) }
        return ConfigFolder(directory: "/config", tiers: TiersFile(tiers: t), drills: d)
    }
}
