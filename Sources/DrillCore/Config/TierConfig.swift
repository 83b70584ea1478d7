/// A recovery tier: the RTO and RPO targets every drill in it must meet, and how often its drills must run.
public struct TierConfig: Sendable, Equatable {
    public var name: String
    public var rto: DrillDuration
    public var rpo: DrillDuration
    /// `@monthly`, `@weekly`, `@daily` or a 5-field cron expression (UTC).
    public var schedule: String
    public var alerts: AlertsConfig?
    /// How long the tier promises that restore points are kept (`30d`): the oldest must be at least this old.
    public var retention: DrillDuration?
    /// How often the tier promises a new restore point (`1d`): no gap between two may be longer.
    public var backupInterval: DrillDuration?

    public init(name: String, rto: DrillDuration, rpo: DrillDuration, schedule: String = "@monthly", alerts: AlertsConfig? = nil,
                retention: DrillDuration? = nil, backupInterval: DrillDuration? = nil) {
        self.retention = retention
        self.backupInterval = backupInterval
        self.name = name
        self.rto = rto
        self.rpo = rpo
        self.schedule = schedule
        self.alerts = alerts
    }
}

/// Where alerts for failed, non-compliant, aborted or missed drills are sent.
public struct AlertsConfig: Sendable, Equatable {
    public var webhook: String?
    public init(webhook: String?) { self.webhook = webhook }
}

/// `tiers.json`.
public struct TiersFile: Sendable, Equatable {
    public var tiers: [String: TierConfig]
    public var alerts: AlertsConfig?

    public init(tiers: [String: TierConfig], alerts: AlertsConfig? = nil) {
        self.tiers = tiers
        self.alerts = alerts
    }

    public static let supportedVersion = 1

    /// Parses `tiers.json`; every problem is recorded in `reader`.
    public static func parse(_ value: JSONValue, reader r: ConfigReader) -> TiersFile? {
        guard let top = r.object(value, at: "", allowed: ["version", "tiers", "alerts"]) else { return nil }
        r.version(top, supported: supportedVersion)
        var tiers: [String: TierConfig] = [:]
        if top["tiers"] == nil { r.fail("tiers", "missing required key") }
        if let members = r.object(top["tiers"], at: "tiers", allowed: nil) {
            if members.isEmpty { r.fail("tiers", "no tiers defined") }
            for name in members.keys.sorted() {
                let path = "tiers.\(name)"
                if !isValidName(name) { r.fail(path, "tier names use letters, digits, '-' and '_' only") }
                guard let t = r.object(members[name], at: path, allowed: ["rto", "rpo", "schedule", "alerts", "retention", "backup_interval"]) else { continue }
                let rto = r.duration(t["rto"], at: path + ".rto", required: true)
                let rpo = r.duration(t["rpo"], at: path + ".rpo", required: true)
                let schedule = r.string(t["schedule"], at: path + ".schedule") ?? "@monthly"
                if let problem = Schedule.problem(in: schedule) { r.fail(path + ".schedule", problem) }
                let alerts = AlertsConfig.parse(t["alerts"], at: path + ".alerts", reader: r)
                let retention = r.duration(t["retention"], at: path + ".retention")
                let interval = r.duration(t["backup_interval"], at: path + ".backup_interval")
                if let rto, let rpo {
                    tiers[name] = TierConfig(name: name, rto: rto, rpo: rpo, schedule: schedule, alerts: alerts,
                                             retention: retention, backupInterval: interval)
                }
            }
        }
        let alerts = AlertsConfig.parse(top["alerts"], at: "alerts", reader: r)
        return TiersFile(tiers: tiers, alerts: alerts)
    }
}

extension AlertsConfig {
    static func parse(_ value: JSONValue?, at path: String, reader r: ConfigReader) -> AlertsConfig? {
        guard let o = r.object(value, at: path, allowed: ["webhook"]) else { return nil }
        let hook = r.string(o["webhook"], at: path + ".webhook")
        if let hook, !(hook.hasPrefix("https://") || hook.hasPrefix("http://")) {
            r.fail(path + ".webhook", "must be an http:// or https:// URL")
        }
        return AlertsConfig(webhook: hook)
    }
}

/// Names of tiers and drills: safe in file names and database names.
public func isValidName(_ s: String) -> Bool {
    !s.isEmpty && s.count <= 40 && s.unicodeScalars.allSatisfy { ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) || $0 == "-" || $0 == "_" }
}
