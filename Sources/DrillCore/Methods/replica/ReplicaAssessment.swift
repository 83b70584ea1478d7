import Foundation

/// What a replica drill's evidence means: the conditions that make it non-compliant, the findings that do not, and the
/// measured RPO. Pure, so every rule is unit-tested.
public struct ReplicaVerdict: Sendable, Equatable {
    /// Non-compliant conditions (each becomes a finding of a non-compliant run).
    public var violations: [String]
    /// Worth reporting, not a miss (an inactive slot, an apply delay).
    public var findings: [String]
    /// The drill's RPO: the worst standby's.
    public var rpo: MethodMeasure
}

extension ReplicaEvidence {
    /// Fills each standby's RPO and `problems`, each slot's and subscription's `problems`, and returns the verdict.
    /// `rpoTarget` is the tier's RPO in seconds.
    public mutating func assess(rpoTarget: Double) -> ReplicaVerdict {
        var violations: [String] = [], findings: [String] = []
        let wait = formatSeconds(probe.waitSeconds)
        for i in standbys.indices {
            var s = standbys[i]
            var problems: [(text: String, violation: Bool)] = []
            if !s.present {
                problems.append(("is not streaming: the primary's pg_stat_replication has no row for application_name \"\(s.name)\" (its walreceiver: \(s.walReceiverStatus ?? "not running"))", true))
            } else if let state = s.state, state != "streaming" {
                problems.append(("is not streaming: pg_stat_replication shows it in state \"\(state)\"", true))
            }
            if s.inRecovery == false { problems.append(("is not in recovery: it is not a standby (was it promoted?)", true)) }
            if let mine = s.systemIdentifier, let theirs = primary.systemIdentifier, mine != theirs {
                problems.append(("belongs to another cluster: system_identifier \(mine), the primary's is \(theirs)", true))
            }
            if let mine = s.timeline, let theirs = primary.timeline, mine != theirs {
                problems.append(("is on timeline \(mine), the primary on timeline \(theirs)", true))
            }
            if let p = s.replayPauseState, p != "not paused" {
                let backlog = s.replayBacklogBytesEnd.map { ": \($0) bytes received are not replayed" } ?? ""
                problems.append(("has its WAL replay paused (pg_get_wal_replay_pause_state: \(p))\(backlog)", true))
            }
            if let delay = s.recoveryMinApplyDelayMs, delay > 0 {
                findings.append("Standby \(s.name) applies WAL with a delay of \(formatSeconds(Double(delay) / 1000)) (recovery_min_apply_delay): its data is that much behind by design, and a promotion must replay it first.")
            }
            if let lat = s.receiveLatencySeconds {
                s.rpoSeconds = lat
                s.rpoSource = "receive_probe"
                if lat > rpoTarget { problems.append(("received the primary's WAL position in \(formatSeconds(lat)), over the RPO target", false)) }
                if let age = s.heartbeat?.ageSeconds, age > rpoTarget {
                    problems.append(("shows a heartbeat \(formatSeconds(age)) old (resolution \(formatSeconds(s.heartbeat?.resolutionSeconds ?? 0))), over the RPO target", true))
                }
            } else {
                var text = "did not receive the primary's WAL position \(primary.flushLsn?.description ?? "?") within \(wait)"
                if let gap = s.byteGap { text += " (\(gap) bytes behind at the first poll)" }
                if let hb = s.heartbeat, let age = hb.ageSeconds {
                    s.rpoSeconds = age
                    s.rpoSource = "heartbeat"
                    text += "; its newest heartbeat is \(formatSeconds(age)) old (the lag lies within \(formatSeconds(max(0, age - (hb.resolutionSeconds ?? 0)))) … \(formatSeconds(age)))"
                } else {
                    text += ", so its RPO is not measured"
                }
                problems.append((text, true))
            }
            if s.replayLatencySeconds == nil, s.replayPauseState == "not paused" || s.replayPauseState == nil, s.receiveLatencySeconds != nil {
                findings.append("Standby \(s.name) received the primary's WAL position but did not replay it within \(wait): its data is visible late.")
            }
            s.problems = problems.map(\.text)
            for p in problems where p.violation { violations.append("Standby \(s.name) \(p.text).") }
            standbys[i] = s
        }
        for i in slots.indices {
            var slot = slots[i]
            var problems: [String] = []
            if !slot.present {
                problems.append("does not exist on the primary")
                violations.append("Slot \(slot.name) does not exist on the primary: its consumer cannot resume.")
            } else {
                if let st = slot.walStatus, st == "lost" || st == "unreserved" {
                    let why = st == "lost" ? "the WAL it needs is gone: its consumer cannot resume" : "the WAL it needs is about to be removed (max_slot_wal_keep_size)"
                    problems.append("has wal_status \(st)")
                    violations.append("Slot \(slot.name) has wal_status \(st): \(why).")
                }
                if slot.active == false {
                    let retained = slot.retainedBytesEnd ?? slot.retainedBytes ?? 0
                    let growth: String
                    if let a = slot.retainedBytes, let b = slot.retainedBytesEnd, b > a {
                        growth = "growing by \(b - a) bytes while drill watched it"
                    } else {
                        growth = "which did not grow while drill watched it (the primary wrote nothing meanwhile)"
                    }
                    problems.append("is inactive, retaining \(retained) bytes of WAL, \(growth)")
                    findings.append("Slot \(slot.name) is inactive: it retains \(retained) bytes of WAL on the primary, \(growth) (no consumer reads it; the primary's disk fills while it stays so).")
                }
            }
            slot.problems = problems
            slots[i] = slot
        }
        for i in subscriptions.indices {
            var sub = subscriptions[i]
            var problems: [String] = []
            if !sub.present {
                problems.append("does not exist on its subscriber")
            } else {
                if sub.enabled == false { problems.append("is disabled") }
                if sub.enabled == true, sub.workerPid == nil { problems.append("has no apply worker running") }
                if let hb = sub.heartbeat, let age = hb.ageSeconds {
                    sub.timeLagSeconds = age
                    sub.timeLagSource = hb.current ? "heartbeat" : "heartbeat (upper bound: this run's heartbeat did not arrive within \(wait))"
                    if !hb.current { problems.append("did not receive this run's heartbeat within \(wait); its newest is \(formatSeconds(age)) old") }
                } else if sub.heartbeatPublished == false {
                    sub.timeLagSource = "unknown: the heartbeat table is not in its publications, and bytes alone do not tell time"
                } else {
                    sub.timeLagSource = "unknown: no heartbeat table is configured, and bytes alone do not tell time"
                }
            }
            for p in problems { findings.append("Subscription \(sub.name) \(p).") }
            sub.problems = problems
            subscriptions[i] = sub
            // The subscription's slot on the primary takes its time lag.
            if let name = sub.slotName, let j = slots.firstIndex(where: { $0.name == name }) {
                slots[j].timeLagSeconds = sub.timeLagSeconds
                slots[j].timeLagSource = sub.timeLagSeconds == nil ? sub.timeLagSource : "heartbeat, through subscription \(sub.name)"
            }
        }
        let unmeasured = standbys.filter { $0.rpoSeconds == nil }
        let rpo: MethodMeasure
        if unmeasured.isEmpty, let worst = standbys.compactMap(\.rpoSeconds).max() {
            rpo = .measured(seconds: worst)
        } else {
            let names = unmeasured.map(\.name).joined(separator: ", ")
            rpo = .notMeasured(reason: "\(names.isEmpty ? "no standby" : names) did not receive the primary's WAL position within \(wait), and no heartbeat bounds the lag")
        }
        return ReplicaVerdict(violations: violations, findings: findings, rpo: rpo)
    }

    /// The RTO a failover to the clone's standby would take: the detection budget, the promotion measured on the clone,
    /// and the time that standby needs to replay the backlog it had at the probe.
    public mutating func assessRTO() -> MethodMeasure {
        guard var c = clone else { return .notMeasured(reason: "no clone is configured, so no promotion was timed") }
        defer { clone = c }
        guard let standby = standbys.first(where: { $0.name == c.from }) else {
            return .notMeasured(reason: "the clone's standby \(c.from) was not probed")
        }
        c.replayBacklogBytes = standby.replayBacklogBytes
        c.replayRateBytesPerSecond = standby.replayRateBytesPerSecond
        if standby.replayBacklogBytes == 0 {
            c.replaySeconds = 0
        } else {
            c.replaySeconds = standby.backlogReplaySeconds
        }
        guard let promotion = c.promotionSeconds else { return .notMeasured(reason: "the clone was not promoted") }
        guard let replay = c.replaySeconds else {
            let backlog = standby.replayBacklogBytes.map { "its \($0)-byte backlog" } ?? "its backlog"
            return .notMeasured(reason: "\(c.from) did not replay \(backlog) within \(formatSeconds(probe.waitSeconds)), so the time to replay it before a promotion is unknown")
        }
        let rto = round3(c.detectionSeconds + promotion + replay)
        c.rtoSeconds = rto
        return .measured(seconds: rto)
    }
}
