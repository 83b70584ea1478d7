import Foundation

extension ReplicaMethod {
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
