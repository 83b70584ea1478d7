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
}

/// Runs the checks' SQL.
public protocol QueryExecutor: Sendable {
    /// Runs one statement in a read-only transaction with a statement timeout; returns every row as text (NULL as nil).
    func query(_ sql: String, timeout: DrillDuration) async throws -> QueryResult
    func close() async
}

public struct QueryResult: Sendable, Equatable {
    public var rows: [[String?]]
    public init(rows: [[String?]]) { self.rows = rows }
    public var firstValue: String?? { rows.first.map { $0.first ?? nil } }
}

/// Opens connections for checks.
public protocol DatabaseConnector: Sendable {
    func connect(_ parameters: ConnectionParameters) async throws -> any QueryExecutor
}
