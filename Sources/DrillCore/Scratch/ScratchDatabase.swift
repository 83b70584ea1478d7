/// A database the drill created and will remove: a private cluster or a fresh database on a given server.
public protocol ScratchDatabase: Sendable {
    /// `embedded` or `server`.
    var kind: String { get }
    /// The database the backup is restored into.
    var database: String { get }
    /// How the drill connects (may hold a password: never print it; use `connection.display`).
    var connection: ConnectionParameters { get }
    /// `server_version` of the scratch server.
    var serverVersion: String { get }
    /// Settings the scratch database runs with, for the report.
    var settings: [String: String] { get }
    /// Removes the database (drop it, or stop the cluster and delete its folder). Runs even when the task is cancelled.
    func teardown() async -> TeardownResult
    /// How to connect to it when the drill was run with `--keep`.
    var keepInstructions: String { get }
    /// The superuser of a private scratch cluster (for a `pg_dumpall` restore's roles and databases); nil on a
    /// server target (by default).
    var adminConnection: ConnectionParameters? { get }
}

extension ScratchDatabase {
    public var adminConnection: ConnectionParameters? { nil }
}

/// The same scratch database, with the checks connecting to another database of its cluster (a `pg_dumpall`
/// restore's `database`). Not adopted itself: the scratch it wraps is, and is torn down once.
public struct RetargetedScratch: ScratchDatabase {
    public let base: any ScratchDatabase
    public let database: String

    public init(_ base: any ScratchDatabase, database: String) {
        self.base = base
        self.database = database
    }

    public var kind: String { base.kind }
    public var connection: ConnectionParameters { base.connection.with(database: database) }
    public var serverVersion: String { base.serverVersion }
    public var settings: [String: String] { base.settings }
    public func teardown() async -> TeardownResult { await base.teardown() }
    public var keepInstructions: String { base.keepInstructions }
    public var adminConnection: ConnectionParameters? { base.adminConnection }
}

public struct TeardownResult: Sendable, Equatable {
    public var removed: Bool
    public var detail: String?
    public init(removed: Bool, detail: String? = nil) {
        self.removed = removed
        self.detail = detail
    }
}

/// Creates scratch databases for a drill.
public protocol ScratchProvisioner: Sendable {
    func provision(drill: DrillConfig, profile: RestoreProfile, jobs: Int) async throws -> any ScratchDatabase
    /// The same with the PostgreSQL chosen for the backup (`PostgresSelection`); by default the choice is ignored (a
    /// server target's version is the server's).
    func provision(drill: DrillConfig, profile: RestoreProfile, jobs: Int, postgres: PostgresInstallation?) async throws -> any ScratchDatabase
}

extension ScratchProvisioner {
    public func provision(drill: DrillConfig, profile: RestoreProfile, jobs: Int, postgres: PostgresInstallation?) async throws -> any ScratchDatabase {
        try await provision(drill: drill, profile: profile, jobs: jobs)
    }
}

/// Runs the checks' SQL.
public protocol QueryExecutor: Sendable {
    /// Runs one statement in a read-only transaction with a statement timeout. Reads the first column of the first
    /// row (bounded: see `ObservedValue`) and counts rows up to `countRowsUpTo + 1`, never the whole result.
    func query(_ sql: String, timeout: DrillDuration, countRowsUpTo: Int) async throws -> QueryResult
    /// Runs one statement with bound parameters (`$1`…, text, their types inferred by the server) in a read-only
    /// transaction with a statement timeout; returns at most `maxRows` rows, each value as text (nil for NULL). The
    /// statement bounds its own values (expectations' statements do).
    func rows(_ sql: String, parameters: [String], timeout: DrillDuration, maxRows: Int) async throws -> [[String?]]
    func close() async
}

extension QueryExecutor {
    /// An executor that cannot bind parameters runs no expectation.
    public func rows(_ sql: String, parameters: [String], timeout: DrillDuration, maxRows: Int) async throws -> [[String?]] {
        throw DrillError(.unsupported, "this connection cannot run expectations (no parameter binding)")
    }
}

/// What a check's statement returned, as far as drill read it.
public struct QueryResult: Sendable, Equatable {
    /// The first column of the first row; nil when there was no row.
    public var first: ObservedValue?
    /// Rows read: the whole count when `moreRows` is false, else a lower bound.
    public var rowCount: Int
    /// Whether reading stopped before the end of the result (there were more than `countRowsUpTo` rows).
    public var moreRows: Bool

    public init(first: ObservedValue?, rowCount: Int, moreRows: Bool) {
        self.first = first
        self.rowCount = rowCount
        self.moreRows = moreRows
    }

    /// A result known whole (fakes, tests): the first column of the first row, every row counted.
    public init(rows: [[String?]]) {
        first = rows.first.map { row in (row.first ?? nil).map { ObservedValue($0) } ?? .null }
        rowCount = rows.count
        moreRows = false
    }
}

/// Opens connections for checks.
public protocol DatabaseConnector: Sendable {
    func connect(_ parameters: ConnectionParameters) async throws -> any QueryExecutor
}
