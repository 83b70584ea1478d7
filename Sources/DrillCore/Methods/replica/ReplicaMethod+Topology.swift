import Foundation

extension ReplicaMethod {
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
}
