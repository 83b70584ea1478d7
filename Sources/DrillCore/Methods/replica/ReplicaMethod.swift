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

    public init(link: any ReplicaLink, cloner: (any ReplicaCloner)?, clock: C, pollInterval: Duration = .milliseconds(10)) {
        self.link = link
        self.cloner = cloner
        self.clock = clock
        self.pollInterval = pollInterval
    }

    static func settings(_ drill: DrillConfig) throws -> ReplicaSettings {
        guard let s = drill.settings as? ReplicaSettings else {
            throw DrillError(.configuration, "\(drill.name) is not a replica drill")
        }
        return s
    }

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

    // MARK: - Connect and topology

    struct Connected: Sendable {
        var primary: any ReplicaSession
        var heartbeat: (any ReplicaSession)?
        var standbys: [String: any ReplicaSession] = [:]
        var subscribers: [String: any ReplicaSession] = [:]
    }

    enum Role: Sendable, Hashable {
        case primary, heartbeat, standby(String), subscriber(String)
    }

    /// Opens every session at once; the first server that cannot be reached fails the drill.
    func connect(_ s: ReplicaSettings, _ sessions: SessionPool, limits: ReplicaLimits, heartbeat: Bool, subscribers: Bool)
        async throws -> Connected {
        var wanted: [(Role, String, ReplicaSessionKind, String)] = [(.primary, s.primary, .monitor, "the primary")]
        if heartbeat { wanted.append((.heartbeat, s.primary, .heartbeat, "the primary (heartbeat connection)")) }
        wanted += s.standbys.map { (.standby($0.name), $0.url, .monitor, "standby \($0.name)") }
        if subscribers { wanted += s.subscriptions.map { (.subscriber($0.name), $0.url, .monitor, "the subscriber of \($0.name)") } }
        let link = self.link
        var opened: [Role: any ReplicaSession] = [:]
        try await withThrowingTaskGroup(of: (Role, any ReplicaSession).self) { group in
            for (role, url, kind, what) in wanted {
                group.addTask {
                    do {
                        return (role, sessions.keep(try await link.open(url, kind: kind, limits: limits)))
                    } catch let e as ReplicaLinkError {
                        throw DrillError(.connectionFailed, "cannot reach \(what) (\(url)): \(e.message)")
                    }
                }
            }
            for try await (role, session) in group { opened[role] = session }
        }
        var c = Connected(primary: opened[.primary]!, heartbeat: opened[.heartbeat])
        for st in s.standbys { c.standbys[st.name] = opened[.standby(st.name)] }
        for sub in s.subscriptions { c.subscribers[sub.name] = opened[.subscriber(sub.name)] }
        return c
    }

    struct Facts: Sendable {
        var primary: PrimaryFacts
        var standbys: [String: StandbyFacts]
        /// The clone's standby's databases, in bytes (for the host's resource check).
        var cloneBytes: Int64?
    }

    func primaryFacts(_ s: ReplicaSettings, _ primary: any ReplicaSession) async throws -> PrimaryFacts {
        let f = try await ask(primary, "the primary") { try PrimaryFacts(rows: try await $0.rows(ReplicaSQL.primaryFacts)) }
        if f.inRecovery {
            throw DrillError(.configuration, "replica.primary (\(s.primary)) is in recovery: it is a standby, not the primary")
        }
        if !f.monitor { throw Self.monitorMissing(f.user, on: "the primary", what: "pg_stat_replication shows the lag and LSN columns") }
        return f
    }

    func flushPosition(_ s: ReplicaSettings, _ primary: any ReplicaSession) async throws -> WALPosition {
        let rows = try await ask(primary, "the primary") { try await $0.rows(ReplicaSQL.flushPosition) }
        guard let p = WALPosition(ReplicaSQL.value(rows, 0)) else {
            throw DrillError(.connectionFailed, "the primary (\(s.primary)) did not report its WAL flush position")
        }
        return p
    }

    /// Reads the primary's and each standby's facts into `ev`; a role without pg_monitor fails the drill.
    func topology(_ s: ReplicaSettings, _ c: Connected, _ ev: inout ReplicaEvidence) async throws -> Facts {
        let pf = try await primaryFacts(s, c.primary)
        ev.primary.user = pf.user
        ev.primary.serverVersion = pf.serverVersion
        ev.primary.systemIdentifier = pf.systemIdentifier
        ev.primary.timeline = pf.timeline
        ev.primary.synchronousStandbyNames = pf.synchronousStandbyNames
        let senders = SenderRow.parse(try await ask(c.primary, "the primary") { try await $0.rows(ReplicaSQL.senders) })
        if senders.contains(where: \.hidden) {
            throw Self.monitorMissing(pf.user, on: "the primary", what: "pg_stat_replication shows the lag and LSN columns")
        }
        var standbyFacts: [String: StandbyFacts] = [:]
        try await withThrowingTaskGroup(of: (String, StandbyFacts).self) { group in
            for st in s.standbys {
                let session = c.standbys[st.name]!
                group.addTask {
                    let f = try await ask(session, "standby \(st.name)") { try StandbyFacts(rows: try await $0.rows(ReplicaSQL.standbyFacts)) }
                    if !f.monitor {
                        throw Self.monitorMissing(f.user, on: "standby \(st.name)", what: "pg_stat_wal_receiver hides its columns")
                    }
                    return (st.name, f)
                }
            }
            for try await (name, f) in group { standbyFacts[name] = f }
        }
        for i in ev.standbys.indices {
            let name = ev.standbys[i].name
            let f = standbyFacts[name]!
            let rows = senders.filter { $0.applicationName == name }
            let sender = rows.first { $0.state == "streaming" } ?? rows.first
            ev.standbys[i].present = sender != nil
            ev.standbys[i].state = sender?.state
            ev.standbys[i].syncState = sender?.syncState
            ev.standbys[i].syncPriority = sender?.syncPriority
            ev.standbys[i].serverVersion = f.serverVersion
            ev.standbys[i].inRecovery = f.inRecovery
            ev.standbys[i].systemIdentifier = f.systemIdentifier
            ev.standbys[i].timeline = f.timeline
            ev.standbys[i].replayPauseState = f.pauseState
            ev.standbys[i].recoveryMinApplyDelayMs = f.minApplyDelayMilliseconds
            ev.standbys[i].walReceiverStatus = f.receiverStatus
            ev.standbys[i].naive.lastReplayedCommit = f.lastReplayedCommit
            if let commit = f.lastReplayedCommit, let now = f.clock {
                ev.standbys[i].naive.replayTimestampAgeSeconds = round3(now.timeIntervalSince(commit))
            }
            ev.standbys[i].naive.writeLagSeconds = sender?.writeLag
            ev.standbys[i].naive.flushLagSeconds = sender?.flushLag
            ev.standbys[i].naive.replayLagSeconds = sender?.replayLag
        }
        for i in ev.subscriptions.indices {
            let name = ev.subscriptions[i].name
            guard let session = c.subscribers[name] else { continue }
            let row = SubscriptionRow(rows: try await ask(session, "the subscriber of \(name)") { try await $0.rows(ReplicaSQL.subscription(name)) })
            guard let row else { continue }
            ev.subscriptions[i].present = true
            ev.subscriptions[i].enabled = row.enabled
            ev.subscriptions[i].workerPid = row.workerPID
            ev.subscriptions[i].receivedLsn = row.received
            ev.subscriptions[i].latestEndLsn = row.latestEnd
            ev.subscriptions[i].lastMessageAt = row.lastMessageAt
            ev.subscriptions[i].slotName = row.slotName
            ev.subscriptions[i].publications = row.publications
            if let table = s.heartbeatTable, !row.publications.isEmpty {
                let n = try await ask(c.primary, "the primary") { try await $0.rows(ReplicaSQL.publishes(row.publications, table: table)) }
                ev.subscriptions[i].heartbeatPublished = (ReplicaSQL.value(n, 0).flatMap { Int($0) } ?? 0) > 0
            } else if s.heartbeatTable != nil {
                ev.subscriptions[i].heartbeatPublished = false
            }
        }
        var cloneBytes: Int64?
        if let from = s.clone?.from, let session = c.standbys[from] {
            let rows = try await ask(session, "standby \(from)") { try await $0.rows(ReplicaSQL.clusterSize) }
            cloneBytes = ReplicaSQL.value(rows, 0).flatMap { Int64($0) }
        }
        return Facts(primary: pf, standbys: standbyFacts, cloneBytes: cloneBytes)
    }

    /// Reads the named slots and the subscriptions' slots on the primary (at the start of the drill, or its end).
    func readSlots(_ primary: any ReplicaSession, _ ev: inout ReplicaEvidence, end: Bool) async throws {
        let names = Array(Set(ev.slots.map(\.name) + ev.subscriptions.compactMap(\.slotName))).sorted()
        guard !names.isEmpty else { return }
        let rows = SlotRow.parse(try await ask(primary, "the primary") { try await $0.rows(ReplicaSQL.slots(names)) })
        for i in ev.slots.indices {
            guard let row = rows.first(where: { $0.name == ev.slots[i].name }) else {
                ev.slots[i].present = false
                continue
            }
            ev.slots[i].present = true
            ev.slots[i].type = row.type
            ev.slots[i].plugin = row.plugin
            ev.slots[i].database = row.database
            ev.slots[i].active = row.active
            ev.slots[i].walStatus = row.walStatus
            ev.slots[i].safeWalSizeBytes = row.safeWALSize
            ev.slots[i].restartLsn = row.restart
            ev.slots[i].confirmedFlushLsn = row.confirmedFlush
            ev.slots[i].confirmedLagBytes = row.confirmedLagBytes
            if end { ev.slots[i].retainedBytesEnd = row.retainedBytes } else { ev.slots[i].retainedBytes = row.retainedBytes }
        }
        for i in ev.subscriptions.indices {
            if let name = ev.subscriptions[i].slotName, let row = rows.first(where: { $0.name == name }) {
                ev.subscriptions[i].confirmedLagBytes = row.confirmedLagBytes
            }
        }
    }

    // MARK: - The probe

    /// Writes the heartbeat (when configured), reads the primary's flush position, and polls every standby and
    /// subscriber at once.
    func probe(_ s: ReplicaSettings, _ c: Connected, _ facts: Facts, wait: Duration, _ ev: inout ReplicaEvidence,
               _ run: MethodRun) async throws {
        var stamp: HeartbeatStamp?
        if let table = s.heartbeatTable, let hb = c.heartbeat {
            let w = try await writeHeartbeat(table, hb, user: facts.primary.user)
            await hb.close()
            ev.heartbeat = .init(table: table, seq: w.seq, writtenAt: w.at)
            stamp = w
        }
        let written = stamp
        ev.probe.startedAt = run.context.now()
        let start = clock.now
        let flush = try await flushPosition(s, c.primary)
        ev.primary.flushLsn = flush
        let probe = StandbyProbe(clock: clock, pollInterval: pollInterval)
        let primary = c.primary
        let primaryClock: @Sendable () async throws -> Date = {
            let rows = try await ask(primary, "the primary") { try await $0.rows(ReplicaSQL.clock) }
            guard let d = ReplicaSQL.epoch(ReplicaSQL.value(rows, 0)) else {
                throw DrillError(.connectionFailed, "the primary did not report its clock")
            }
            return d
        }
        let table = s.heartbeatTable
        let published = Dictionary(uniqueKeysWithValues: ev.subscriptions.map { ($0.name, $0.heartbeatPublished == true) })
        var results: [String: StandbyProbe<C>.Result] = [:], readings: [String: ReplicaEvidence.HeartbeatReading] = [:]
        try await withThrowingTaskGroup(of: Outcome.self) { group in
            for st in s.standbys {
                let session = c.standbys[st.name]!
                group.addTask {
                    try await ask(session, "standby \(st.name)") { session in
                        var r = try await probe.run(session, target: flush, start: start, wait: wait)
                        if let table, let written {
                            r.heartbeat = try await probe.heartbeat(session, table: table, written: written, start: start, wait: wait,
                                                                    primaryClock: primaryClock)
                        }
                        return .standby(st.name, r)
                    }
                }
            }
            for sub in s.subscriptions where published[sub.name] == true {
                guard let session = c.subscribers[sub.name], let table, let written else { continue }
                group.addTask {
                    try await ask(session, "the subscriber of \(sub.name)") { session in
                        .subscriber(sub.name, try await probe.heartbeat(session, table: table, written: written, start: start,
                                                                        wait: wait, primaryClock: primaryClock))
                    }
                }
            }
            for try await outcome in group {
                switch outcome {
                case .standby(let name, let r): results[name] = r
                case .subscriber(let name, let h): readings[name] = h
                }
            }
        }
        for i in ev.standbys.indices {
            guard let r = results[ev.standbys[i].name] else { continue }
            ev.standbys[i].apply(r, target: flush)
        }
        for i in ev.subscriptions.indices { ev.subscriptions[i].heartbeat = readings[ev.subscriptions[i].name] }
    }

    enum Outcome: Sendable {
        case standby(String, StandbyProbe<C>.Result)
        case subscriber(String, ReplicaEvidence.HeartbeatReading)
    }

    func writeHeartbeat(_ table: String, _ session: any ReplicaSession, user: String) async throws -> HeartbeatStamp {
        let rows: [[String?]]
        do {
            rows = try await session.rows(ReplicaSQL.heartbeatWrite(table))
        } catch let e as ReplicaLinkError where e.isUndefinedTable {
            throw DrillError(.configuration, "the heartbeat table \(table) does not exist on the primary: create it with the SQL `drill replica init` prints")
        } catch let e as ReplicaLinkError where e.isPermission {
            throw DrillError(.permissionDenied, "\(user) may not update the heartbeat table \(table) on the primary: GRANT SELECT, UPDATE ON \(table) TO \(Self.ident(user));")
        } catch let e as ReplicaLinkError {
            throw DrillError(.connectionFailed, "the heartbeat update on the primary failed: \(e.message)")
        }
        guard let stamp = HeartbeatStamp(rows: rows) else {
            throw DrillError(.configuration, "the heartbeat table \(table) has no row: insert its one row with the SQL `drill replica init` prints")
        }
        return stamp
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
    public init(link: any ReplicaLink, cloner: (any ReplicaCloner)?) {
        self.init(link: link, cloner: cloner, clock: ContinuousClock())
    }
}

extension ReplicaEvidence.Standby {
    /// Records one standby's probe.
    mutating func apply<C: Clock>(_ r: StandbyProbe<C>.Result, target: WALPosition) where C.Duration == Duration {
        receiveLsn = r.first?.receive
        replayLsn = r.first?.replay
        receiveLsnEnd = r.last?.receive
        replayLsnEnd = r.last?.replay
        byteGap = r.first?.receive.map { $0.bytes(to: target) }
        replayBacklogBytes = r.backlogBytes
        if let l = r.last, let recv = l.receive, let replay = l.replay { replayBacklogBytesEnd = replay.bytes(to: recv) }
        receiveLatencySeconds = r.receiveLatency.map { round6(seconds($0)) }
        replayLatencySeconds = r.replayLatency.map { round6(seconds($0)) }
        backlogReplaySeconds = r.backlogReplay.map { round6(seconds($0)) }
        if let b = replayBacklogBytes, b > 0, let t = backlogReplaySeconds, t > 0 { replayRateBytesPerSecond = (Double(b) / t).rounded() }
        heartbeat = r.heartbeat
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
