import Foundation
import Synchronization

extension PhaseName {
    public static let connect = PhaseName(rawValue: "connect")
    public static let topology = PhaseName(rawValue: "topology")
    public static let probe = PhaseName(rawValue: "probe")
    public static let slots = PhaseName(rawValue: "slots")
    public static let clone = PhaseName(rawValue: "clone")
    public static let cloneStart = PhaseName(rawValue: "clone_start")
    public static let promote = PhaseName(rawValue: "promote")
}

/// The replica drill: measures, without changing production, what a failover to each standby would lose now (RPO: the
/// time until a standby has received the primary's flushed WAL position) and how long it would take (RTO: detection +
/// a promotion timed on a private clone of a standby + the standby's replay backlog at its measured rate). Phases:
/// connect → topology → probe → slots → [provision → clone → clone_start → promote] → checks (on each standby,
/// read-only).
public struct ReplicaMethod<C: Clock>: DrillMethod where C.Duration == Duration {
    public var link: any ReplicaLink
    /// Makes the private clone; nil when this build cannot (a drill with `clone` then fails).
    public var cloner: (any ReplicaCloner)?
    public var clock: C
    /// The pause between two polls of a standby: the resolution of the measured latencies.
    public var pollInterval: Duration
    /// The installed PostgreSQL versions, to choose the clone's (the primary's major); nil: the cloner's default.
    public var postgres: (any PostgresCatalog)?

    public init(link: any ReplicaLink, cloner: (any ReplicaCloner)?, clock: C, pollInterval: Duration = .milliseconds(10),
                postgres: (any PostgresCatalog)? = nil) {
        self.link = link
        self.cloner = cloner
        self.postgres = postgres
        self.clock = clock
        self.pollInterval = pollInterval
    }

    static func settings(_ drill: DrillConfig) throws -> ReplicaSettings { try drill.settings(as: ReplicaSettings.self, kind: .replica) }

    /// A replica drill restores no backup: a tier's retention promises are not about it.
    public var hasRestorePoints: Bool { false }

    public func locate(_ drill: DrillConfig, _ context: MethodContext) async throws -> RestorePoint {
        let s = try Self.settings(drill)
        return RestorePoint(uri: s.primary, name: s.standbys.map(\.name).joined(separator: ", "), format: "replica")
    }

    /// One probe, without the heartbeat (plan writes nothing): each standby's receive latency and byte gap now.
    public func plan(_ drill: DrillConfig, _ context: MethodContext) async throws -> PlanPoint {
        let s = try Self.settings(drill)
        let point = try await locate(drill, context)
        let sessions = SessionPool()
        do {
            let limits = ReplicaLimits(s)
            let c = try await connect(s, sessions, limits: limits, heartbeat: false, subscribers: false)
            _ = try await primaryFacts(s, c.primary)
            let wait = min(s.probeWait(rpo: DrillDuration(seconds: 60)), .seconds(10))
            let start = clock.now
            let flush = try await flushPosition(s, c.primary)
            let probe = StandbyProbe(clock: clock, pollInterval: pollInterval)
            var lines: [String] = [], worst = 0.0
            for standby in s.standbys {
                let r = try await ask(c.standbys[standby.name]!, "standby \(standby.name)") {
                    try await probe.run($0, target: flush, start: start, wait: wait)
                }
                let gap = r.first?.receive.map { $0.bytes(to: flush) }
                if let lat = r.receiveLatency {
                    worst = max(worst, seconds(lat))
                    lines.append("\(standby.name) received in \(formatSeconds(seconds(lat))) (\(gap ?? 0) bytes behind)")
                } else {
                    worst = max(worst, seconds(wait))
                    lines.append("\(standby.name) did not receive within \(formatSeconds(seconds(wait)))\(gap.map { " (\($0) bytes behind)" } ?? "")")
                }
            }
            await sessions.closeAll()
            return PlanPoint(point: point, newestRecoverable: context.now().addingTimeInterval(-worst),
                             newestRecoverableSource: "replica probe: " + lines.joined(separator: "; "))
        } catch {
            await sessions.closeAll()
            throw error
        }
    }

    /// With a clone, the primary's major (its `server_version`), which the clone's PostgreSQL must have (for
    /// `drill plan`); nil without one: nothing is restored.
    public func versionNeed(_ drill: DrillConfig, _ context: MethodContext) async throws -> VersionNeed? {
        let s = try Self.settings(drill)
        guard s.clone != nil else { return nil }
        let sessions = SessionPool()
        do {
            let c = try await connect(s, sessions, limits: ReplicaLimits(s), heartbeat: false, subscribers: false)
            let facts = try await primaryFacts(s, c.primary)
            await sessions.closeAll()
            return Self.versionNeed(primary: facts.serverVersion)
        } catch {
            await sessions.closeAll()
            throw error
        }
    }

    static func versionNeed(primary serverVersion: String?) -> VersionNeed? {
        serverVersion.flatMap(PostgresVersion.init(parsing:)).map { VersionNeed(version: $0, rule: .sameMajor, source: "the primary's server_version") }
    }

    public func restore(_ drill: DrillConfig, _ run: MethodRun) async throws -> Restored {
        let s = try Self.settings(drill)
        let limits = ReplicaLimits(s)
        let wait = s.probeWait(rpo: run.tier.rpo)
        run.record(point: try await locate(drill, run.context))
        var ev = ReplicaEvidence(primary: .init(url: s.primary),
                                 probe: .init(waitSeconds: seconds(wait), pollIntervalSeconds: seconds(pollInterval)))
        ev.standbys = s.standbys.map { .init(name: $0.name, url: $0.url) }
        ev.slots = s.slots.map { .init(name: $0) }
        ev.subscriptions = s.subscriptions.map { .init(name: $0.name, url: $0.url) }
        run.evidence(ev)
        let sessions = SessionPool()
        do {
            let c = try await run.phase(.connect, detail: "primary, \(s.standbys.count) standby(s)") {
                try await connect(s, sessions, limits: limits, heartbeat: s.heartbeatTable != nil, subscribers: true)
            }
            let facts = try await run.phase(.topology, detail: "pg_stat_replication, standbys") {
                try await topology(s, c, &ev)
            }
            run.evidence(ev)
            let slotsRead = clock.now
            if !ev.slots.isEmpty || !ev.subscriptions.isEmpty { try await readSlots(c.primary, &ev, end: false) }
            try await run.phase(.probe, detail: "flush LSN → receive / replay, within \(formatSeconds(seconds(wait)))") {
                try await probe(s, c, facts, wait: wait, &ev, run)
            }
            run.evidence(ev)
            if !ev.slots.isEmpty || !ev.subscriptions.isEmpty {
                try await run.phase(.slots, detail: "\(ev.slots.count) slot(s), \(ev.subscriptions.count) subscription(s)") {
                    try await readSlots(c.primary, &ev, end: true)
                    // An inactive slot's growth needs a window in which the primary writes: at least a second.
                    let window = Duration.seconds(1) - slotsRead.duration(to: clock.now)
                    if window > .zero, ev.slots.contains(where: { $0.active == false && $0.retainedBytesEnd == $0.retainedBytes }) {
                        try await clock.sleep(for: window)
                        try await readSlots(c.primary, &ev, end: true)
                    }
                }
            }
            let verdict = ev.assess(rpoTarget: Double(run.tier.rpo.seconds))
            for f in verdict.findings { run.finding(f) }
            run.evidence(ev)
            await sessions.closeAll()
            if let clone = s.clone {
                try await self.clone(drill, clone, facts: facts, limits: limits, &ev, run)
            }
            let rto = ev.assessRTO()
            run.evidence(ev)
            let targets = try s.standbys.map { st in
                CheckTarget(label: st.name, connection: try link.checkConnection(st.url, database: drill.database, limits: limits),
                            serverVersion: facts.standbys[st.name]?.serverVersion)
            }
            run.restoreInfo { $0.tool = "postgres (streaming replication)" }
            return Restored(checkTargets: targets, recoveryPointSource: "replica_probe", rpo: verdict.rpo, rto: rto,
                            violations: verdict.violations)
        } catch {
            run.evidence(ev)
            await sessions.closeAll()
            throw error
        }
    }

    // MARK: - Helpers

    /// Runs `body` on a session, turning its errors into drill errors that name the server.
    func ask<T: Sendable>(_ session: any ReplicaSession, _ what: String, _ body: (any ReplicaSession) async throws -> T)
        async throws -> T {
        do {
            return try await body(session)
        } catch let e as ReplicaLinkError {
            if e.isPermission { throw DrillError(.permissionDenied, "\(what) refused a query drill needs: \(e.message). Grant the drill's role pg_monitor (GRANT pg_monitor TO <role>;)") }
            throw DrillError(.connectionFailed, "\(what) did not answer: \(e.message)")
        } catch let e as ReplicaFactError {
            throw DrillError(.connectionFailed, "\(what): \(e.description)")
        }
    }

    static func monitorMissing(_ user: String, on server: String, what: String) -> DrillError {
        DrillError(.permissionDenied, "\(user) lacks pg_monitor on \(server): \(what) as NULL to roles outside pg_monitor, which would read as no lag. Grant it: GRANT pg_monitor TO \(ident(user));")
    }

    /// A role name as SQL would need it.
    static func ident(_ s: String) -> String {
        ReplicaSQL.isQualifiedName(s) && !s.contains(".") ? s : "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

extension ReplicaMethod where C == ContinuousClock {
    public init(link: any ReplicaLink, cloner: (any ReplicaCloner)?, postgres: (any PostgresCatalog)? = nil) {
        self.init(link: link, cloner: cloner, clock: ContinuousClock(), postgres: postgres)
    }
}

/// The production sessions of one drill, closed together on every path.
final class SessionPool: Sendable {
    private let items = Mutex<[any ReplicaSession]>([])

    func keep(_ s: any ReplicaSession) -> any ReplicaSession {
        items.withLock { $0.append(s) }
        return s
    }

    func closeAll() async {
        let all = items.withLock { s in
            let copy = s
            s = []
            return copy
        }
        for s in all { await s.close() }
    }
}
