import Foundation

extension DrillConfig {
    public static let supportedVersion = 1

    /// The keys every drill file may have, whatever its method.
    public static let commonKeys: Set<String> = [
        "version", "tier", "target", "restore", "checks", "database", "recovery", "alerts", "description", "expectations",
    ]

    /// Parses one drill file; every problem is recorded in `reader`. `tiers` is used to check the tier name. The
    /// method's own keys are parsed by the method (see `MethodParsers`).
    public static func parse(_ value: JSONValue, name: String, file: String, tiers: [String: TierConfig]?,
                             reader r: ConfigReader) -> DrillConfig? {
        guard let top = r.object(value, at: "", allowed: commonKeys.union(MethodParsers.keys)) else { return nil }
        r.version(top, supported: supportedVersion)
        if !isValidName(name) { r.fail("", "drill file names use letters, digits, '-' and '_' only (max 40)") }
        _ = r.string(top["description"], at: "description")
        let tier = r.string(top["tier"], at: "tier", required: true)
        if let tier, let tiers, tiers[tier] == nil {
            r.fail("tier", "unknown tier \"\(tier)\" (tiers.json defines: \(tiers.keys.sorted().joined(separator: ", ")))")
        }
        let settings = parseMethod(top, reader: r)
        let target = parseTarget(top["target"], reader: r)
        let restore = parseRestore(top["restore"], reader: r)
        let checks = parseChecks(top["checks"], reader: r)
        let database = r.string(top["database"], at: "database")
        var recovery: RecoveryConfig?
        if let rc = r.object(top["recovery"], at: "recovery", allowed: ["target"]) {
            let t = r.string(rc["target"], at: "recovery.target") ?? "latest"
            if t != "latest", t != "random", RFC3339.parse(t) == nil {
                r.fail("recovery.target", "expected latest, random or an RFC 3339 timestamp with offset, found \"\(t)\"")
            }
            recovery = RecoveryConfig(target: t)
        }
        let alerts = AlertsConfig.parse(top["alerts"], at: "alerts", reader: r)
        if let settings, !settings.supportsServerTarget, case .server = target {
            r.fail("target.kind", "a \(settings.kind) drill restores into a private scratch cluster: use the embedded target")
        }
        let suites = SuiteReference.parseAll(top["expectations"], reader: r)
        guard let tier, let settings else { return nil }
        var drill = DrillConfig(name: name, file: file, tier: tier, settings: settings, target: target ?? .embedded,
                                restore: restore ?? RestoreConfig(), checks: checks, database: database, recovery: recovery,
                                alerts: alerts)
        drill.suites = suites
        return drill
    }

    /// Chooses the drill's method and lets it parse its own keys; a key of another method is an error.
    private static func parseMethod(_ top: [String: JSONValue], reader r: ConfigReader) -> (any MethodSettings)? {
        let known = MethodParsers.all.map(\.kind.rawValue).joined(separator: ", ")
        guard let kind = MethodParsers.kind(of: top) else {
            r.fail("backup.kind", "expected a string naming the kind of backup (one of: \(known))")
            return nil
        }
        guard let parser = MethodParsers.parser(for: kind) else {
            r.fail("backup.kind", "unknown kind \"\(kind)\" (one of: \(known))")
            return nil
        }
        for key in MethodParsers.keys.subtracting(parser.keys).sorted() where top[key] != nil {
            let owners = MethodParsers.all.filter { $0.keys.contains(key) }.map(\.kind.rawValue).joined(separator: ", ")
            r.fail(key, "not a key of a \(kind) drill (it belongs to: \(owners))")
        }
        return parser.parse(top, reader: r)
    }

    private static func parseTarget(_ v: JSONValue?, reader r: ConfigReader) -> TargetConfig? {
        guard let t = r.object(v, at: "target", allowed: ["kind", "url"]) else { return nil }
        let kind = r.string(t["kind"], at: "target.kind") ?? "embedded"
        switch kind {
        case "embedded":
            if t["url"] != nil { r.fail("target.url", "only a server target takes a url") }
            return .embedded
        case "server":
            guard let url = r.string(t["url"], at: "target.url", required: true) else { return nil }
            return .server(url: url)
        default:
            r.fail("target.kind", "\"\(kind)\" is not one of: embedded, server")
            return nil
        }
    }

    private static func parseRestore(_ v: JSONValue?, reader r: ConfigReader) -> RestoreConfig? {
        guard let o = r.object(v, at: "restore", allowed: ["jobs", "profile", "timeout", "as", "postgres"]) else { return nil }
        let jobs = r.integer(o["jobs"], at: "restore.jobs", range: 1...64)
        let profile = r.oneOf(o["profile"], at: "restore.profile", RestoreProfile.self) ?? .durable
        let timeout = r.duration(o["timeout"], at: "restore.timeout")
        if let timeout, timeout.seconds < 1 { r.fail("restore.timeout", "must be at least 1s") }
        let restoreAs = r.oneOf(o["as"], at: "restore.as", RestoreAs.self) ?? .owner
        let postgres = r.string(o["postgres"], at: "restore.postgres")
        if let postgres, !postgres.hasPrefix("/") {
            r.fail("restore.postgres", "must be an absolute path to a PostgreSQL bin folder (holding initdb, postgres, pg_restore, psql)")
        }
        return RestoreConfig(jobs: jobs, profile: profile, timeout: timeout, restoreAs: restoreAs, postgres: postgres)
    }

    private static func parseChecks(_ v: JSONValue?, reader r: ConfigReader) -> [CheckConfig] {
        guard let v else { return [] }
        guard case .array(let items) = v else {
            r.fail("checks", "expected an array, found \(v.typeName)")
            return []
        }
        var out: [CheckConfig] = []
        var names = Set<String>()
        for (i, item) in items.enumerated() {
            let path = "checks[\(i)]"
            // `"expect": "<type>"` makes the check an expectation on a table; its other keys are its kwargs.
            let isExpectation = if case .object(let o) = item, case .string? = o["expect"] { true } else { false }
            guard let c = r.object(item, at: path, allowed: isExpectation ? nil : ["name", "sql", "expect", "timeout"]) else { continue }
            let name = r.string(c["name"], at: path + ".name", required: true)
            if let name, !names.insert(name).inserted { r.fail(path + ".name", "duplicate check name \"\(name)\"") }
            let timeout = r.duration(c["timeout"], at: path + ".timeout")
            if let timeout, !CheckConfig.timeoutRange.contains(timeout.seconds * 1000) {
                r.fail(path + ".timeout", "\(timeout) is outside PostgreSQL's statement_timeout range, 1 ms to 2147483647 ms "
                    + "(1s to \(DrillDuration(seconds: CheckConfig.timeoutRange.upperBound / 1000)) here)")
            }
            if isExpectation {
                if c["sql"] != nil { r.fail(path + ".sql", "an expectation check has no sql") }
                if let e = ExpectationRegistry.parseInline(c, at: path, reader: r), let name {
                    out.append(CheckConfig(name: name, expectation: e, timeout: timeout ?? DrillDuration(seconds: 60)))
                }
                continue
            }
            let sql = r.string(c["sql"], at: path + ".sql", required: true)
            if let sql, sql.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { r.fail(path + ".sql", "must not be empty") }
            if c["expect"] == nil { r.fail(path + ".expect", "missing required key") }
            let expect = parseExpectation(c["expect"], at: path + ".expect", reader: r)
            if let name, let sql, let expect {
                out.append(CheckConfig(name: name, sql: sql, expect: expect, timeout: timeout ?? DrillDuration(seconds: 60)))
            }
        }
        return out
    }

    private static func parseExpectation(_ v: JSONValue?, at path: String, reader r: ConfigReader) -> Expectation? {
        guard let o = r.object(v, at: path, allowed: ["equals", "min", "max", "matches", "within", "rows"]) else { return nil }
        var e = Expectation()
        if let eq = o["equals"] {
            if case .array = eq { r.fail(path + ".equals", "expected a scalar, found an array") }
            else if case .object = eq { r.fail(path + ".equals", "expected a scalar, found an object") }
            else { e.equals = eq }
        }
        e.min = r.number(o["min"], at: path + ".min")
        e.max = r.number(o["max"], at: path + ".max")
        if let m = r.string(o["matches"], at: path + ".matches") {
            if (try? Regex(m)) == nil { r.fail(path + ".matches", "not a valid regular expression: \(m)") }
            else { e.matches = m }
        }
        if let w = r.string(o["within"], at: path + ".within") {
            if w == "rpo" { e.within = .rpo }
            else if let d = DrillDuration(parsing: w) { e.within = .duration(d) }
            else { r.fail(path + ".within", "expected \"rpo\" or a duration such as 15m, found \"\(w)\"") }
        }
        if let rows = r.object(o["rows"], at: path + ".rows", allowed: ["min", "max"]) {
            e.rowsMin = r.integer(rows["min"], at: path + ".rows.min", range: 0...Int(Int32.max))
            e.rowsMax = r.integer(rows["max"], at: path + ".rows.max", range: 0...Int(Int32.max))
            if rows.isEmpty { r.fail(path + ".rows", "give min, max or both") }
        }
        if o.isEmpty { r.fail(path, "give at least one of: equals, min, max, matches, within, rows") }
        return e
    }
}

/// URL schemes of backup locations.
public enum URLScheme {
    public static let known = ["file", "s3", "http", "https"]

    /// The scheme of a location, or nil for a plain path.
    public static func of(_ location: String) -> String? {
        guard let r = location.range(of: "://") else { return nil }
        let scheme = location[..<r.lowerBound].lowercased()
        return scheme.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "+" }) && !scheme.isEmpty ? scheme : nil
    }
}
