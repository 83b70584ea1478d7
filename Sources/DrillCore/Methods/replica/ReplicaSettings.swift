import Foundation

/// A `replica` drill: a primary and its standbys (streaming replication), optionally a heartbeat table, replication
/// slots, logical subscriptions, and a `clone` of one standby to time a promotion. Nothing is restored from a backup:
/// the drill measures what a failover would lose now (RPO) and how long it would take (RTO), without changing
/// production. Connections follow libpq conventions (`.pgpass`, `PG*`); the file never holds a password.
public struct ReplicaSettings: MethodSettings, Equatable {
    public struct Standby: Sendable, Equatable {
        /// The standby's `application_name` as the primary's `pg_stat_replication` shows it (its `cluster_name`, or
        /// the `application_name` of its `primary_conninfo`).
        public var name: String
        public var url: String
        public init(name: String, url: String) {
            self.name = name
            self.url = url
        }
    }

    public struct Subscription: Sendable, Equatable {
        /// The subscription's name on the subscriber (`pg_subscription.subname`).
        public var name: String
        /// The subscriber, in the database that holds the subscription.
        public var url: String
        public init(name: String, url: String) {
            self.name = name
            self.url = url
        }
    }

    public struct Clone: Sendable, Equatable {
        /// The standby (by name) that is copied with `pg_basebackup` and promoted in a private scratch cluster.
        public var from: String
        /// How long your failover takes to notice that the primary is gone (a Patroni TTL, a health check's budget):
        /// added to the measured promotion and replay in the RTO.
        public var detection: DrillDuration
        /// `pg_basebackup --max-rate` (`32k` … `1024M`), to spare the standby's disks and network.
        public var maxRate: String?
        /// The connection `pg_basebackup` uses (a role with REPLICATION); default the standby's `url`.
        public var url: String?
        /// Bound on the clone's start and promotion (default 10m).
        public var timeout: DrillDuration

        public init(from: String, detection: DrillDuration, maxRate: String? = nil, url: String? = nil,
                    timeout: DrillDuration = DrillDuration(seconds: 600)) {
            self.from = from
            self.detection = detection
            self.maxRate = maxRate
            self.url = url
            self.timeout = timeout
        }
    }

    public var primary: String
    public var standbys: [Standby]
    /// A one-row table drill updates on the primary and reads back on each standby (and subscriber).
    public var heartbeatTable: String?
    public var slots: [String]
    public var subscriptions: [Subscription]
    public var clone: Clone?
    /// How long the probe waits for each standby to receive and replay the primary's WAL position; nil: the tier's
    /// RPO, at most 60 s.
    public var wait: DrillDuration?
    /// libpq `connect_timeout`, and the bound on each statement is derived from it.
    public var connectTimeout: DrillDuration

    public init(primary: String, standbys: [Standby], heartbeatTable: String? = nil, slots: [String] = [],
                subscriptions: [Subscription] = [], clone: Clone? = nil, wait: DrillDuration? = nil,
                connectTimeout: DrillDuration = DrillDuration(seconds: 10)) {
        self.primary = primary
        self.standbys = standbys
        self.heartbeatTable = heartbeatTable
        self.slots = slots
        self.subscriptions = subscriptions
        self.clone = clone
        self.wait = wait
        self.connectTimeout = connectTimeout
    }

    public var kind: MethodKind { .replica }
    /// The primary's connection text (the parser refuses passwords, so it holds no secret).
    public var source: String { "\(primary) (\(standbys.count) standby\(standbys.count == 1 ? "" : "s"))" }
    public var supportsServerTarget: Bool { false }
    public func resolvingPaths(_ resolve: (String) -> String) -> any MethodSettings { self }

    /// The probe's wait for a tier with RPO `rpo`.
    public func probeWait(rpo: DrillDuration) -> Duration {
        .seconds(wait?.seconds ?? max(1, min(rpo.seconds, 60)))
    }

    public var standbyToClone: Standby? { clone.flatMap { c in standbys.first { $0.name == c.from } } }
}

/// Parses a `replica` drill's `replica` object.
public struct ReplicaParser: MethodParser {
    public init() {}
    public var kind: MethodKind { .replica }
    public var keys: Set<String> { ["replica"] }

    public func claims(_ top: [String: JSONValue]) -> Bool { top["replica"] != nil }

    static let allowed: Set<String> = ["primary", "standbys", "heartbeat", "slots", "subscriptions", "clone", "wait",
                                       "connect_timeout"]

    public func parse(_ top: [String: JSONValue], reader r: ConfigReader) -> (any MethodSettings)? {
        if top["recovery"] != nil { r.fail("recovery", "a replica drill restores no backup: recovery does not apply") }
        guard top["replica"] != nil else {
            r.fail("replica", "missing required key")
            return nil
        }
        guard let o = r.object(top["replica"], at: "replica", allowed: Self.allowed) else { return nil }
        let primary = url(o["primary"], at: "replica.primary", required: true, r)
        var standbys: [ReplicaSettings.Standby] = []
        if let v = o["standbys"] {
            if case .array(let items) = v, !items.isEmpty {
                var names = Set<String>()
                for (i, item) in items.enumerated() {
                    let path = "replica.standbys[\(i)]"
                    guard let s = r.object(item, at: path, allowed: ["name", "url"]) else { continue }
                    let name = self.name(s["name"], at: path + ".name", r)
                    if let name, !names.insert(name).inserted { r.fail(path + ".name", "duplicate standby name \"\(name)\"") }
                    let u = url(s["url"], at: path + ".url", required: true, r)
                    if let name, let u { standbys.append(.init(name: name, url: u)) }
                }
            } else {
                r.fail("replica.standbys", "expected a non-empty array of { \"name\", \"url\" }")
            }
        } else {
            r.fail("replica.standbys", "missing required key (the standbys to check, each { \"name\", \"url\" })")
        }
        var heartbeat: String?
        if let h = r.object(o["heartbeat"], at: "replica.heartbeat", allowed: ["table"]) {
            if let t = r.string(h["table"], at: "replica.heartbeat.table", required: true) {
                if ReplicaSQL.isQualifiedName(t) { heartbeat = t } else {
                    r.fail("replica.heartbeat.table", "expected a table name such as drill_heartbeat or monitoring.drill_heartbeat (lower-case letters, digits, _)")
                }
            }
        }
        var slots: [String] = []
        if let v = o["slots"] {
            if case .array(let items) = v {
                for (i, item) in items.enumerated() {
                    if let n = name(item, at: "replica.slots[\(i)]", r) {
                        if slots.contains(n) { r.fail("replica.slots[\(i)]", "duplicate slot \"\(n)\"") } else { slots.append(n) }
                    }
                }
            } else {
                r.fail("replica.slots", "expected an array of slot names, found \(v.typeName)")
            }
        }
        var subscriptions: [ReplicaSettings.Subscription] = []
        if let v = o["subscriptions"] {
            if case .array(let items) = v {
                for (i, item) in items.enumerated() {
                    let path = "replica.subscriptions[\(i)]"
                    guard let s = r.object(item, at: path, allowed: ["name", "url"]) else { continue }
                    let n = name(s["name"], at: path + ".name", r)
                    let u = url(s["url"], at: path + ".url", required: true, r)
                    if let n, let u { subscriptions.append(.init(name: n, url: u)) }
                }
            } else {
                r.fail("replica.subscriptions", "expected an array of { \"name\", \"url\" }, found \(v.typeName)")
            }
        }
        var clone: ReplicaSettings.Clone?
        if let c = r.object(o["clone"], at: "replica.clone", allowed: ["from", "detection", "max_rate", "url", "timeout"]) {
            let from = r.string(c["from"], at: "replica.clone.from", required: true)
            if let from, !standbys.isEmpty, !standbys.contains(where: { $0.name == from }) {
                r.fail("replica.clone.from", "\"\(from)\" is not one of the standbys (\(standbys.map(\.name).joined(separator: ", ")))")
            }
            if c["detection"] == nil {
                r.fail("replica.clone.detection", "missing required key: how long your failover takes to notice the primary is gone (e.g. 30s); it is part of the RTO")
            }
            let detection = r.duration(c["detection"], at: "replica.clone.detection")
            var maxRate: String?
            if let m = r.string(c["max_rate"], at: "replica.clone.max_rate") {
                if Self.isRate(m) { maxRate = m } else {
                    r.fail("replica.clone.max_rate", "expected pg_basebackup's --max-rate form: a number of kB/s, optionally with k or M (32k to 1024M), found \"\(m)\"")
                }
            }
            let cloneURL = url(c["url"], at: "replica.clone.url", required: false, r)
            let timeout = r.duration(c["timeout"], at: "replica.clone.timeout")
            if let from, let detection {
                clone = .init(from: from, detection: detection, maxRate: maxRate, url: cloneURL,
                              timeout: timeout ?? DrillDuration(seconds: 600))
            }
        }
        let wait = r.duration(o["wait"], at: "replica.wait")
        if let wait, wait.seconds < 1 { r.fail("replica.wait", "must be at least 1s") }
        let connect = r.duration(o["connect_timeout"], at: "replica.connect_timeout")
        if let connect, connect.seconds < 2 { r.fail("replica.connect_timeout", "must be at least 2s (libpq's minimum)") }
        guard let primary, !standbys.isEmpty else { return nil }
        return ReplicaSettings(primary: primary, standbys: standbys, heartbeatTable: heartbeat, slots: slots,
                               subscriptions: subscriptions, clone: clone, wait: wait,
                               connectTimeout: connect ?? DrillDuration(seconds: 10))
    }

    private func url(_ v: JSONValue?, at path: String, required: Bool, _ r: ConfigReader) -> String? {
        guard let s = r.string(v, at: path, required: required) else { return nil }
        if s.trimmingCharacters(in: .whitespaces).isEmpty {
            r.fail(path, "must not be empty")
            return nil
        }
        if let problem = ConnectionText.secretProblem(s) {
            r.fail(path, problem)
            return nil
        }
        return s
    }

    private func name(_ v: JSONValue?, at path: String, _ r: ConfigReader) -> String? {
        guard let s = r.string(v, at: path, required: true) else { return nil }
        guard ReplicaSQL.isName(s) else {
            r.fail(path, "expected a name of letters, digits, _ and - (at most 63), found \"\(s)\"")
            return nil
        }
        return s
    }

    /// `pg_basebackup --max-rate`: kB/s, or with `k` / `M`, from 32 kB/s to 1024 MB/s.
    static func isRate(_ s: String) -> Bool {
        var digits = Substring(s)
        var factor = 1
        if s.hasSuffix("k") { digits = digits.dropLast() } else if s.hasSuffix("M") {
            digits = digits.dropLast()
            factor = 1024
        }
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber), let n = Int(digits) else { return false }
        let kb = n * factor
        return kb >= 32 && kb <= 1024 * 1024
    }
}

/// Pure checks on libpq connection text (URIs and `key=value` strings).
public enum ConnectionText {
    /// Why a connection text may not be written in a drill file: it holds a password. Nil when it holds none.
    public static func secretProblem(_ text: String) -> String? {
        let hint = "a password in the drill file: use ~/.pgpass (or PGPASSFILE, or a passfile= parameter) or PGPASSWORD"
        if let scheme = text.range(of: "://") {
            let rest = text[scheme.upperBound...]
            let authority = rest.prefix { $0 != "/" && $0 != "?" }
            if let at = authority.lastIndex(of: "@"), authority[..<at].contains(":") { return hint }
            if let q = rest.firstIndex(of: "?") {
                for pair in rest[rest.index(after: q)...].split(separator: "&") {
                    let key = pair.split(separator: "=", maxSplits: 1).first.map(String.init)?.lowercased() ?? ""
                    if ConnectionParameters.secretKeywords.contains(key) { return hint }
                }
            }
            return nil
        }
        let pattern = #"(^|\s)(password|sslpassword)\s*="#
        if text.range(of: pattern, options: [.regularExpression, .caseInsensitive]) != nil { return hint }
        return nil
    }
}

extension MethodKind {
    public static let replica: MethodKind = "replica"
}
