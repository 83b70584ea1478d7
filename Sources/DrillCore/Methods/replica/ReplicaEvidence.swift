import Foundation

/// The `replica` block of a report: what drill saw of the replication topology, per standby, slot and subscription,
/// and the clone's RTO parts. Versioned on its own; documented in docs/report-schema.md.
public struct ReplicaEvidence: MethodEvidence {
    public static let currentVersion = 1
    public static var reportKey: WritableKeyPath<DrillReport, ReplicaEvidence?> { \.replica }

    public var version: Int = ReplicaEvidence.currentVersion
    public var primary: Primary
    public var probe: Probe
    public var heartbeat: HeartbeatWrite?
    public var standbys: [Standby]
    public var slots: [Slot]
    public var subscriptions: [Subscription]
    public var clone: Clone?

    public init(primary: Primary, probe: Probe, heartbeat: HeartbeatWrite? = nil, standbys: [Standby] = [], slots: [Slot] = [],
                subscriptions: [Subscription] = [], clone: Clone? = nil) {
        self.primary = primary
        self.probe = probe
        self.heartbeat = heartbeat
        self.standbys = standbys
        self.slots = slots
        self.subscriptions = subscriptions
        self.clone = clone
    }

    public struct Primary: Sendable, Codable, Equatable {
        public var url: String
        public var user: String?
        public var serverVersion: String?
        public var systemIdentifier: String?
        public var timeline: UInt32?
        public var synchronousStandbyNames: String?
        /// `pg_current_wal_flush_lsn()` when the probe began: the position each standby must receive.
        public var flushLsn: WALPosition?

        public init(url: String) { self.url = url }
    }

    /// How the probe was run.
    public struct Probe: Sendable, Codable, Equatable {
        /// How long it waited at most for each standby.
        public var waitSeconds: Double
        /// The pause between two polls of a standby: the resolution of the latencies.
        public var pollIntervalSeconds: Double
        public var startedAt: Date?

        public init(waitSeconds: Double, pollIntervalSeconds: Double, startedAt: Date? = nil) {
            self.waitSeconds = waitSeconds
            self.pollIntervalSeconds = pollIntervalSeconds
            self.startedAt = startedAt
        }
    }

    /// The heartbeat drill wrote on the primary for this run.
    public struct HeartbeatWrite: Sendable, Codable, Equatable {
        public var table: String
        public var seq: Int64
        /// The primary's `clock_timestamp()` stored in the row.
        public var writtenAt: Date

        public init(table: String, seq: Int64, writtenAt: Date) {
            self.table = table
            self.seq = seq
            self.writtenAt = writtenAt
        }
    }

    /// The heartbeat as a standby or subscriber shows it. Both stamps come from the primary's clock.
    public struct HeartbeatReading: Sendable, Codable, Equatable {
        /// The newest heartbeat visible there.
        public var seenSeq: Int64?
        public var seenAt: Date?
        /// Whether the heartbeat of this run became visible within the wait.
        public var current: Bool
        /// The primary's clock when the reading was taken minus the visible stamp: how old the newest visible data
        /// is, at most.
        public var ageSeconds: Double?
        /// The true lag lies within `age - resolution … age`: the poll interval when this run's heartbeat was seen,
        /// else the gap between the visible heartbeat and this run's.
        public var resolutionSeconds: Double?

        public init(seenSeq: Int64?, seenAt: Date?, current: Bool, ageSeconds: Double?, resolutionSeconds: Double?) {
            self.seenSeq = seenSeq
            self.seenAt = seenAt
            self.current = current
            self.ageSeconds = ageSeconds
            self.resolutionSeconds = resolutionSeconds
        }
    }

    /// Figures other tools show, kept for comparison; no verdict uses them (docs/replica-drills.md says why).
    public struct Naive: Sendable, Codable, Equatable {
        /// `pg_last_xact_replay_timestamp()` on the standby: grows on an idle primary though nothing is missing.
        public var lastReplayedCommit: Date?
        /// The standby's `now()` minus that, on the standby's clock.
        public var replayTimestampAgeSeconds: Double?
        /// `pg_stat_replication.write_lag`, `flush_lag`, `replay_lag`: NULL when idle, absent when disconnected.
        public var writeLagSeconds: Double?
        public var flushLagSeconds: Double?
        public var replayLagSeconds: Double?

        public init() {}
    }

    public struct Standby: Sendable, Codable, Equatable {
        public var name: String
        public var url: String
        public var serverVersion: String?
        // Topology.
        /// A row for this `application_name` in the primary's `pg_stat_replication`.
        public var present: Bool
        public var state: String?
        public var syncState: String?
        public var syncPriority: Int?
        public var inRecovery: Bool?
        public var systemIdentifier: String?
        public var timeline: UInt32?
        /// `pg_get_wal_replay_pause_state()`: `not paused`, `pause requested`, `paused`.
        public var replayPauseState: String?
        public var recoveryMinApplyDelayMs: Int?
        /// `pg_stat_wal_receiver.status`, nil when no walreceiver runs.
        public var walReceiverStatus: String?
        // The RPO probe.
        /// The standby's positions at the first poll, and at the last.
        public var receiveLsn: WALPosition?
        public var replayLsn: WALPosition?
        public var receiveLsnEnd: WALPosition?
        public var replayLsnEnd: WALPosition?
        /// The primary's flush position minus what the standby had received at the first poll.
        public var byteGap: Int64?
        /// Received but not yet replayed, at the first poll (what a promotion must replay first) and at the last.
        public var replayBacklogBytes: Int64?
        public var replayBacklogBytesEnd: Int64?
        /// From reading the primary's flush position until the standby had received it (durable there): the RPO.
        public var receiveLatencySeconds: Double?
        /// … until it had replayed it (visible to queries).
        public var replayLatencySeconds: Double?
        /// How long replaying the first poll's backlog took, and the rate that makes.
        public var backlogReplaySeconds: Double?
        public var replayRateBytesPerSecond: Double?
        public var heartbeat: HeartbeatReading?
        public var naive: Naive
        /// This standby's RPO: the receive latency, or, when the probe ran out of time, the heartbeat age (an upper
        /// bound); nil: not measured.
        public var rpoSeconds: Double?
        /// `receive_probe`, `heartbeat` or nil.
        public var rpoSource: String?
        /// What is wrong with this standby (empty: nothing).
        public var problems: [String]

        public init(name: String, url: String) {
            self.name = name
            self.url = url
            present = false
            naive = Naive()
            problems = []
        }
    }

    public struct Slot: Sendable, Codable, Equatable {
        public var name: String
        public var present: Bool
        public var type: String?
        public var plugin: String?
        public var database: String?
        public var active: Bool?
        /// `reserved`, `extended`, `unreserved`, `lost`.
        public var walStatus: String?
        public var safeWalSizeBytes: Int64?
        public var restartLsn: WALPosition?
        public var confirmedFlushLsn: WALPosition?
        /// WAL the slot holds back (current position minus `restart_lsn`), at the start of the drill and at its end.
        public var retainedBytes: Int64?
        public var retainedBytesEnd: Int64?
        /// `pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)` (logical slots).
        public var confirmedLagBytes: Int64?
        /// The consumer's lag in seconds, when a time source exists (a subscription that receives the heartbeat).
        public var timeLagSeconds: Double?
        /// Where the time lag came from, or why it is unknown.
        public var timeLagSource: String
        public var problems: [String]

        public init(name: String) {
            self.name = name
            present = false
            timeLagSource = "unknown"
            problems = []
        }
    }

    public struct Subscription: Sendable, Codable, Equatable {
        public var name: String
        public var url: String
        public var present: Bool
        public var enabled: Bool?
        /// The apply worker's pid; nil when no worker runs.
        public var workerPid: Int?
        public var receivedLsn: WALPosition?
        public var latestEndLsn: WALPosition?
        public var lastMessageAt: Date?
        public var slotName: String?
        public var publications: [String]
        /// The subscription's slot on the primary: confirmed lag in bytes.
        public var confirmedLagBytes: Int64?
        /// Whether one of its publications carries the heartbeat table (the only honest time source).
        public var heartbeatPublished: Bool?
        public var heartbeat: HeartbeatReading?
        public var timeLagSeconds: Double?
        public var timeLagSource: String
        public var problems: [String]

        public init(name: String, url: String) {
            self.name = name
            self.url = url
            present = false
            publications = []
            timeLagSource = "unknown"
            problems = []
        }
    }

    /// The clone that timed a promotion, and the RTO it makes.
    public struct Clone: Sendable, Codable, Equatable {
        public var from: String
        public var tool: String?
        public var maxRate: String?
        public var copySeconds: Double?
        public var startSeconds: Double?
        /// From `pg_promote()` to the first committed write on the clone.
        public var promotionSeconds: Double?
        public var promoteCallSeconds: Double?
        public var timeline: UInt32?
        /// The configured detection budget.
        public var detectionSeconds: Double
        /// The production standby's replay backlog at the probe, and how long replaying it takes at its measured rate.
        public var replayBacklogBytes: Int64?
        public var replayRateBytesPerSecond: Double?
        public var replaySeconds: Double?
        /// detection + promotion + replay.
        public var rtoSeconds: Double?
        /// Replication settings the copy brought from production, and what the running clone used instead.
        public var inherited: [String: String]
        public var effective: [String: String]

        public init(from: String, detectionSeconds: Double) {
            self.from = from
            self.detectionSeconds = detectionSeconds
            inherited = [:]
            effective = [:]
        }
    }
}
