import Foundation

/// Every statement the replica method sends to production, and the parsers of their rows. Read-only, apart from the
/// heartbeat's one-row UPDATE (sent on its own connection). Never `pg_promote`, `pg_wal_replay_pause`/`resume`, or a
/// slot function: a unit test checks every statement here.
public enum ReplicaSQL {
    // MARK: Statements

    /// The primary: recovery state, system, timeline, the role and its privileges, version, sync names.
    public static let primaryFacts = """
        SELECT pg_is_in_recovery(), (SELECT system_identifier::text FROM pg_control_system()),
               CASE WHEN pg_is_in_recovery() THEN lpad(to_hex((SELECT timeline_id FROM pg_control_checkpoint())), 8, '0')
                    ELSE substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8) END,
               current_user::text, pg_has_role(current_user, 'pg_monitor', 'USAGE'), current_setting('server_version'),
               current_setting('synchronous_standby_names'), (SELECT rolname::text FROM pg_roles WHERE oid = 10)
        """

    /// The primary's WAL senders (NULL columns for a role outside pg_monitor / pg_read_all_stats).
    public static let senders = """
        SELECT application_name, state, sync_state, sync_priority::text, sent_lsn::text, write_lsn::text, flush_lsn::text,
               replay_lsn::text, extract(epoch FROM write_lag)::text, extract(epoch FROM flush_lag)::text,
               extract(epoch FROM replay_lag)::text, pid::text
        FROM pg_stat_replication ORDER BY application_name
        """

    /// A standby: recovery, system, timeline, replay pause, apply delay, walreceiver, the naive replay timestamp.
    public static let standbyFacts = """
        SELECT pg_is_in_recovery(), (SELECT system_identifier::text FROM pg_control_system()),
               coalesce((SELECT lpad(to_hex(received_tli), 8, '0') FROM pg_stat_wal_receiver WHERE received_tli IS NOT NULL),
                        lpad(to_hex((SELECT timeline_id FROM pg_control_checkpoint())), 8, '0')),
               CASE WHEN pg_is_in_recovery() THEN pg_get_wal_replay_pause_state() END,
               (SELECT setting FROM pg_settings WHERE name = 'recovery_min_apply_delay'),
               (SELECT status FROM pg_stat_wal_receiver),
               extract(epoch FROM pg_last_xact_replay_timestamp())::text, extract(epoch FROM clock_timestamp())::text,
               current_user::text, pg_has_role(current_user, 'pg_monitor', 'USAGE'), current_setting('server_version'),
               (SELECT rolname::text FROM pg_roles WHERE oid = 10),
               (SELECT count(*)::text FROM pg_tablespace WHERE spcname NOT IN ('pg_default', 'pg_global'))
        """

    /// The size of every database of a standby (what a clone copies), for the host's resource check.
    public static let clusterSize = "SELECT sum(pg_database_size(oid))::text FROM pg_database"

    /// One poll of a standby: what it has received (flushed to its disk) and replayed (visible).
    public static let position = "SELECT pg_last_wal_receive_lsn()::text, pg_last_wal_replay_lsn()::text"

    /// The primary's flushed WAL position: the probe's target.
    public static let flushPosition = "SELECT pg_current_wal_flush_lsn()::text"

    /// The primary's clock, for heartbeat ages (both stamps from the same clock).
    public static let clock = "SELECT extract(epoch FROM clock_timestamp())::text"

    /// The only write drill makes to production (on its own connection): one row, stamped by the primary's clock.
    public static func heartbeatWrite(_ table: String) -> String {
        "UPDATE \(table) SET ts = clock_timestamp(), seq = seq + 1 RETURNING seq::text, extract(epoch FROM ts)::text"
    }

    public static func heartbeatRead(_ table: String) -> String {
        "SELECT seq::text, extract(epoch FROM ts)::text FROM \(table) ORDER BY seq DESC LIMIT 1"
    }

    /// Whether any of `publications` (on the primary) publishes `table`.
    public static func publishes(_ publications: [String], table: String) -> String {
        """
        SELECT count(*)::text FROM pg_publication_tables p, pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.oid = to_regclass(\(literal(table))) AND p.pubname IN (\(publications.map(literal).joined(separator: ", ")))
          AND p.schemaname = n.nspname AND p.tablename = c.relname
        """
    }

    /// The named slots on the primary, with the WAL they retain and their consumer's confirmed lag.
    public static func slots(_ names: [String]) -> String {
        """
        SELECT slot_name::text, slot_type, plugin::text, database::text, active, wal_status, safe_wal_size::text,
               restart_lsn::text, confirmed_flush_lsn::text, pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::text,
               pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::text, pg_current_wal_lsn()::text
        FROM pg_replication_slots WHERE slot_name IN (\(names.map(literal).joined(separator: ", "))) ORDER BY slot_name
        """
    }

    /// A subscription on its subscriber (in the subscriber's current database) and its apply worker.
    public static func subscription(_ name: String) -> String {
        """
        SELECT s.subenabled, st.pid::text, st.received_lsn::text, st.latest_end_lsn::text,
               extract(epoch FROM st.last_msg_receipt_time)::text, extract(epoch FROM st.latest_end_time)::text,
               s.subslotname::text, array_to_string(s.subpublications, ',')
        FROM pg_subscription s LEFT JOIN pg_stat_subscription st ON st.subid = s.oid AND st.relid IS NULL
        WHERE s.subname = \(literal(name)) AND s.subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())
        """
    }

    /// Every statement sent to production for a drill with these names (for the test that none changes production).
    public static func all(table: String = "drill_heartbeat", slots names: [String] = ["s"], subscription: String = "sub") -> [String] {
        [primaryFacts, senders, standbyFacts, clusterSize, position, flushPosition, clock, heartbeatWrite(table), heartbeatRead(table),
         publishes(["p"], table: table), slots(names), self.subscription(subscription)]
    }

    // MARK: Quoting and names

    /// An SQL string literal (standard_conforming_strings: only quotes are doubled).
    public static func literal(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "''") + "'" }

    /// A slot, subscription or standby name: letters, digits, `_` and `-`, at most 63.
    public static func isName(_ s: String) -> Bool {
        !s.isEmpty && s.count <= 63 && s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }
    }

    /// `table` or `schema.table`, lower-case unquoted identifiers (usable as written in SQL).
    public static func isQualifiedName(_ s: String) -> Bool {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 1 || parts.count == 2 else { return false }
        return parts.allSatisfy { p in
            guard let first = p.first, p.count <= 63, first == "_" || (first.isASCII && first.isLowercase) else { return false }
            return p.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") }
        }
    }

    // MARK: Row parsing

    static func value(_ rows: [[String?]], _ column: Int) -> String? {
        guard let row = rows.first, column < row.count else { return nil }
        return row[column]
    }

    static func bool(_ s: String?) -> Bool? {
        switch s {
        case "t", "true": true
        case "f", "false": false
        default: nil
        }
    }

    static func epoch(_ s: String?) -> Date? { s.flatMap(Double.init).map { Date(timeIntervalSince1970: $0) } }

    static func timeline(_ s: String?) -> UInt32? { s.flatMap { UInt32($0, radix: 16) } }
}

/// What the primary says about itself.
public struct PrimaryFacts: Sendable, Equatable {
    public var inRecovery: Bool
    public var systemIdentifier: String?
    public var timeline: UInt32?
    public var user: String
    public var monitor: Bool
    public var serverVersion: String
    public var synchronousStandbyNames: String
    public var bootstrapSuperuser: String?

    public init(rows: [[String?]]) throws {
        guard let row = rows.first, row.count >= 8 else { throw ReplicaFactError("the primary answered no facts row") }
        inRecovery = ReplicaSQL.bool(row[0]) ?? false
        systemIdentifier = row[1]
        timeline = ReplicaSQL.timeline(row[2])
        user = row[3] ?? "?"
        monitor = ReplicaSQL.bool(row[4]) ?? false
        serverVersion = row[5] ?? "unknown"
        synchronousStandbyNames = row[6] ?? ""
        bootstrapSuperuser = row[7]
    }
}

/// One row of the primary's `pg_stat_replication`.
public struct SenderRow: Sendable, Equatable {
    public var applicationName: String?
    public var state: String?
    public var syncState: String?
    public var syncPriority: Int?
    public var sent: WALPosition?
    public var write: WALPosition?
    public var flush: WALPosition?
    public var replay: WALPosition?
    public var writeLag: Double?
    public var flushLag: Double?
    public var replayLag: Double?
    public var pid: Int?

    /// A walsender the role may not see: only its pid shows, every other column is NULL.
    public var hidden: Bool { pid != nil && state == nil }

    public static func parse(_ rows: [[String?]]) -> [SenderRow] {
        rows.compactMap { r in
            guard r.count >= 12 else { return nil }
            return SenderRow(applicationName: r[0], state: r[1], syncState: r[2], syncPriority: r[3].flatMap { Int($0) },
                             sent: WALPosition(r[4]), write: WALPosition(r[5]), flush: WALPosition(r[6]), replay: WALPosition(r[7]),
                             writeLag: r[8].flatMap(Double.init), flushLag: r[9].flatMap(Double.init),
                             replayLag: r[10].flatMap(Double.init), pid: r[11].flatMap { Int($0) })
        }
    }
}

/// What a standby says about itself.
public struct StandbyFacts: Sendable, Equatable {
    public var inRecovery: Bool
    public var systemIdentifier: String?
    public var timeline: UInt32?
    public var pauseState: String?
    public var minApplyDelayMilliseconds: Int?
    public var receiverStatus: String?
    public var lastReplayedCommit: Date?
    public var clock: Date?
    public var user: String
    public var monitor: Bool
    public var serverVersion: String
    public var bootstrapSuperuser: String?
    public var tablespaces: Int

    public init(rows: [[String?]]) throws {
        guard let row = rows.first, row.count >= 13 else { throw ReplicaFactError("the standby answered no facts row") }
        inRecovery = ReplicaSQL.bool(row[0]) ?? false
        systemIdentifier = row[1]
        timeline = ReplicaSQL.timeline(row[2])
        pauseState = row[3]
        minApplyDelayMilliseconds = row[4].flatMap { Int($0) }
        receiverStatus = row[5]
        lastReplayedCommit = ReplicaSQL.epoch(row[6])
        clock = ReplicaSQL.epoch(row[7])
        user = row[8] ?? "?"
        monitor = ReplicaSQL.bool(row[9]) ?? false
        serverVersion = row[10] ?? "unknown"
        bootstrapSuperuser = row[11]
        tablespaces = row[12].flatMap { Int($0) } ?? 0
    }

    /// Replay is paused or a pause was requested (`pg_wal_replay_pause()` takes effect at the next record).
    public var paused: Bool { pauseState.map { $0 != "not paused" } ?? false }
}

/// One row of `pg_replication_slots`.
public struct SlotRow: Sendable, Equatable {
    public var name: String
    public var type: String?
    public var plugin: String?
    public var database: String?
    public var active: Bool
    public var walStatus: String?
    public var safeWALSize: Int64?
    public var restart: WALPosition?
    public var confirmedFlush: WALPosition?
    public var retainedBytes: Int64?
    public var confirmedLagBytes: Int64?
    public var current: WALPosition?

    public static func parse(_ rows: [[String?]]) -> [SlotRow] {
        rows.compactMap { r in
            guard r.count >= 12, let name = r[0] else { return nil }
            return SlotRow(name: name, type: r[1], plugin: r[2], database: r[3], active: ReplicaSQL.bool(r[4]) ?? false,
                           walStatus: r[5], safeWALSize: r[6].flatMap { Int64($0) }, restart: WALPosition(r[7]),
                           confirmedFlush: WALPosition(r[8]), retainedBytes: r[9].flatMap { Double($0) }.map { Int64($0) },
                           confirmedLagBytes: r[10].flatMap { Double($0) }.map { Int64($0) }, current: WALPosition(r[11]))
        }
    }
}

/// A subscription and its apply worker, on the subscriber.
public struct SubscriptionRow: Sendable, Equatable {
    public var enabled: Bool
    public var workerPID: Int?
    public var received: WALPosition?
    public var latestEnd: WALPosition?
    public var lastMessageAt: Date?
    public var latestEndAt: Date?
    public var slotName: String?
    public var publications: [String]

    public init?(rows: [[String?]]) {
        guard let r = rows.first, r.count >= 8 else { return nil }
        enabled = ReplicaSQL.bool(r[0]) ?? false
        workerPID = r[1].flatMap { Int($0) }
        received = WALPosition(r[2])
        latestEnd = WALPosition(r[3])
        lastMessageAt = ReplicaSQL.epoch(r[4])
        latestEndAt = ReplicaSQL.epoch(r[5])
        slotName = r[6]
        publications = (r[7] ?? "").split(separator: ",").map(String.init)
    }
}

/// A heartbeat row: its sequence number and the primary's clock when it was written.
public struct HeartbeatStamp: Sendable, Equatable {
    public var seq: Int64
    public var at: Date

    public init(seq: Int64, at: Date) {
        self.seq = seq
        self.at = at
    }

    public init?(rows: [[String?]]) {
        guard let seq = ReplicaSQL.value(rows, 0).flatMap({ Int64($0) }), let at = ReplicaSQL.epoch(ReplicaSQL.value(rows, 1)) else {
            return nil
        }
        self.init(seq: seq, at: at)
    }
}

struct ReplicaFactError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
