import Foundation

/// The RPO probe for one standby: after the primary's flush position `target` was read, the standby is polled until
/// it has received that position (durable there: the RPO), replayed it (visible), and replayed the backlog it had at
/// the first poll (what a promotion must replay first), or until `wait` runs out.
struct StandbyProbe<C: Clock>: Sendable where C.Duration == Duration {
    struct Sample: Sendable, Equatable {
        var receive: WALPosition?
        var replay: WALPosition?
        /// Since the probe's start (just before the primary's flush position was asked for).
        var at: Duration
    }

    struct Result: Sendable, Equatable {
        var first: Sample?
        var last: Sample?
        var receiveLatency: Duration?
        var replayLatency: Duration?
        /// How long replaying the first poll's backlog took (zero when there was none).
        var backlogReplay: Duration?
        var heartbeat: ReplicaEvidence.HeartbeatReading?

        var backlogBytes: Int64? {
            guard let f = first, let recv = f.receive, let replay = f.replay else { return nil }
            return replay.bytes(to: recv)
        }
    }

    var clock: C
    var pollInterval: Duration

    /// Polls until everything is measured or `wait` has passed since `start`.
    func run(_ session: any ReplicaSession, target: WALPosition, start: C.Instant, wait: Duration) async throws -> Result {
        var r = Result()
        var backlogEnd: WALPosition?
        while true {
            let rows = try await session.rows(ReplicaSQL.position)
            let at = start.duration(to: clock.now)
            let sample = Sample(receive: WALPosition(ReplicaSQL.value(rows, 0)), replay: WALPosition(ReplicaSQL.value(rows, 1)), at: at)
            if r.first == nil {
                r.first = sample
                if let recv = sample.receive, let replay = sample.replay, recv > replay { backlogEnd = recv } else { r.backlogReplay = .zero }
            }
            r.last = sample
            if r.receiveLatency == nil, let recv = sample.receive, recv >= target { r.receiveLatency = at }
            if r.replayLatency == nil, let replay = sample.replay, replay >= target { r.replayLatency = at }
            if r.backlogReplay == nil, let end = backlogEnd, let replay = sample.replay, replay >= end, let first = r.first {
                r.backlogReplay = at - first.at
            }
            if r.receiveLatency != nil && r.replayLatency != nil && r.backlogReplay != nil { break }
            if at >= wait { break }
            try await clock.sleep(for: pollInterval)
        }
        return r
    }

    /// Polls a heartbeat table until it shows `written.seq` or `wait` has passed since `start`; `primaryClock`
    /// reads the primary's clock (the same clock that stamped the rows).
    func heartbeat(_ session: any ReplicaSession, table: String, written: HeartbeatStamp, start: C.Instant, wait: Duration,
                   primaryClock: @Sendable () async throws -> Date) async throws -> ReplicaEvidence.HeartbeatReading {
        var seen: HeartbeatStamp?
        while true {
            seen = HeartbeatStamp(rows: try await session.rows(ReplicaSQL.heartbeatRead(table)))
            if let s = seen, s.seq >= written.seq { break }
            if start.duration(to: clock.now) >= wait { break }
            try await clock.sleep(for: pollInterval)
        }
        let now = try await primaryClock()
        return Self.reading(seen: seen, written: written, primaryNow: now, pollInterval: pollInterval)
    }

    /// The heartbeat arithmetic: the age is the primary's clock now minus the newest visible stamp. When this run's
    /// heartbeat is visible, the visible data is at most that old (resolution: the poll interval). Otherwise the newest visible data lies between the visible heartbeat
    /// and the next one, which was written no later than this run's: the lag is within `age - (written - seen) … age`.
    static func reading(seen: HeartbeatStamp?, written: HeartbeatStamp, primaryNow: Date, pollInterval: Duration)
        -> ReplicaEvidence.HeartbeatReading {
        guard let seen else {
            return .init(seenSeq: nil, seenAt: nil, current: false, ageSeconds: nil, resolutionSeconds: nil)
        }
        let current = seen.seq >= written.seq
        let age = max(0, primaryNow.timeIntervalSince(seen.at))
        let resolution = current ? seconds(pollInterval) : max(0, written.at.timeIntervalSince(seen.at))
        return .init(seenSeq: seen.seq, seenAt: seen.at, current: current, ageSeconds: round3(age),
                     resolutionSeconds: round3(resolution))
    }
}

func round3(_ x: Double) -> Double { (x * 1000).rounded() / 1000 }
func round6(_ x: Double) -> Double { (x * 1_000_000).rounded() / 1_000_000 }
