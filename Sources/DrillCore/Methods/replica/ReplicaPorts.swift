import Foundation

/// What a production session may do.
public enum ReplicaSessionKind: String, Sendable {
    /// Read-only (`default_transaction_read_only = on`): every session but one.
    case monitor
    /// The heartbeat's own connection: the one UPDATE drill makes (`synchronous_commit = local`, so it never waits
    /// for a synchronous standby).
    case heartbeat
}

/// Bounds on every wait: the connection (libpq `connect_timeout`, TCP keepalives and user timeout) and each
/// statement (a query cancel when it runs over; `statement_timeout` alone does not end a wait in SyncRep).
public struct ReplicaLimits: Sendable, Equatable {
    public var connect: Duration
    public var statement: Duration

    public init(connect: Duration, statement: Duration) {
        self.connect = connect
        self.statement = statement
    }

    public init(_ settings: ReplicaSettings) {
        let c = max(2, settings.connectTimeout.seconds)
        self.init(connect: .seconds(c), statement: .seconds(max(15, 3 * c)))
    }
}

/// How the replica method reaches production servers. Live: libpq (`DrillLive.LibPQReplicaLink`).
public protocol ReplicaLink: Sendable {
    /// Opens a session on the server `url` names (libpq conventions fill what it does not say).
    func open(_ url: String, kind: ReplicaSessionKind, limits: ReplicaLimits) async throws -> any ReplicaSession
    /// The connection the runner's read-only checks use on a standby (`database` overrides the URL's).
    func checkConnection(_ url: String, database: String?, limits: ReplicaLimits) throws -> ConnectionParameters
}

/// One session on a production server. Every statement is bounded by the session's limits and cancelled when it
/// runs over; the session is not reused after that.
public protocol ReplicaSession: Sendable {
    func rows(_ sql: String) async throws -> [[String?]]
    func close() async
}

/// Why a session could not be opened or a statement failed.
public struct ReplicaLinkError: Error, Sendable, CustomStringConvertible, Equatable {
    public enum Kind: String, Sendable { case unreachable, timedOut, server }
    public var kind: Kind
    /// SQLSTATE, when the server sent one (`42501`: insufficient privilege; `42P01`: undefined table).
    public var sqlState: String?
    public var message: String

    public init(_ kind: Kind, sqlState: String? = nil, _ message: String) {
        self.kind = kind
        self.sqlState = sqlState
        self.message = message
    }

    public var description: String { message }
    public var isPermission: Bool { sqlState == "42501" }
    public var isUndefinedTable: Bool { sqlState == "42P01" }
}

/// Makes private scratch clusters from a standby, to time a promotion (`clone`). Live:
/// `DrillLive.PgBaseBackupCloner`.
public protocol ReplicaCloner: Sendable {
    /// Creates the scratch cluster's private folders (nothing runs yet), with the server programs of `postgres` (the
    /// primary's major; nil: the cloner's default).
    func prepare(drill: DrillConfig, profile: RestoreProfile, postgres: PostgresInstallation?) async throws -> any ReplicaClone
}

/// A clone of a production standby in a private scratch cluster. Teardown stops it and deletes every file.
public protocol ReplicaClone: ScratchDatabase {
    /// `pg_basebackup -R -X stream -c fast --no-slot` from the standby `url` into the private data folder (no
    /// replication slot is created on production; the connection settings `-R` writes are removed at once).
    func copy(from url: String, maxRate: String?, limits: ReplicaLimits) async throws -> CloneCopy
    /// Overrides production's replication identity, starts the copy as a standby and waits until it accepts
    /// connections; `superuser` is production's bootstrap superuser (whose role the copy carries).
    func start(superuser: String, within: Duration) async throws -> CloneStart
    /// `pg_promote()`, then the first successful write; both timed.
    func promote(within: Duration) async throws -> ClonePromotion
}

public struct CloneCopy: Sendable, Equatable {
    public var tool: String
    public var bytes: Int64?
    public init(tool: String, bytes: Int64?) {
        self.tool = tool
        self.bytes = bytes
    }
}

public struct CloneStart: Sendable, Equatable {
    /// Settings the copy brought from the standby's configuration files, before drill overrode them.
    public var inherited: [String: String]
    /// The settings the running clone reports (`SHOW`).
    public var effective: [String: String]
    public var serverVersion: String
    public init(inherited: [String: String], effective: [String: String], serverVersion: String) {
        self.inherited = inherited
        self.effective = effective
        self.serverVersion = serverVersion
    }
}

public struct ClonePromotion: Sendable, Equatable {
    /// From calling `pg_promote()` until the first write committed: the measured promotion.
    public var seconds: Double
    /// How long `pg_promote(wait => true)` itself took.
    public var promoteCallSeconds: Double
    /// The timeline the clone is on after promotion.
    public var timeline: UInt32?
    public init(seconds: Double, promoteCallSeconds: Double, timeline: UInt32?) {
        self.seconds = seconds
        self.promoteCallSeconds = promoteCallSeconds
        self.timeline = timeline
    }
}
