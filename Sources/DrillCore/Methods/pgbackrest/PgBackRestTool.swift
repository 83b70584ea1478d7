import Foundation

/// The pgBackRest side of a drill, as the method is written against it: the repository (read only) and the scratch
/// cluster a backup is restored into. The live implementation runs the real `pgbackrest` (DrillLive).
public protocol PgBackRestTool: Sendable {
    /// `pgbackrest version` (`pgBackRest 2.45`), or nil when it cannot be run.
    func version() async -> String?
    /// `pgbackrest info --output=json` for the stanza and repository (with `set`: only that backup). Throws when
    /// pgBackRest cannot run or exits non-zero; a missing stanza or an unreadable repository is in the result's status.
    func info(_ settings: PgBackRestSettings, set: String?) async throws -> PgBackRestInfo
    /// `pgbackrest verify`: checks every backup and the WAL archive of the stanza.
    func verify(_ settings: PgBackRestSettings) async throws -> PgBackRestVerifyResult
    /// The files of WAL archive `archiveID` (`repo-ls`), optionally only those under one timeline+log folder.
    func archiveListing(_ settings: PgBackRestSettings, archiveID: String, folder: String?) async throws -> [PgBackRestArchiveListing.Entry]
    /// Creates the private scratch cluster folders (nothing runs yet), with the server programs of `postgres` (the
    /// backup's major; nil: the tool's default).
    func prepare(drill: DrillConfig, profile: RestoreProfile, postgres: PostgresInstallation?) async throws -> any PgBackRestSession
}

/// One restore from a pgBackRest repository into a private scratch cluster. Teardown stops the server (if started)
/// and deletes everything, the fetched WAL included.
public protocol PgBackRestSession: WALReplaySession {
    /// `pgbackrest restore --set=<label>` into the private data folder (with `--archive-mode=off`, a private lock path,
    /// and `--type=time --target=… --target-action=promote` when `target` is given); the restored files are handed to
    /// the scratch server's user.
    func restore(_ settings: PgBackRestSettings, set: String, target: Date?) async throws -> PgBackRestRestoreOutcome
    /// Brings `files` (in replay order) into the private WAL folder with `pgbackrest archive-get`, `options.connections`
    /// at once, while the server replays; returns the bytes fetched. A file the repository no longer has fails with
    /// `WALDeliveryError` naming it (replay gets nothing after it).
    func deliverWAL(_ settings: PgBackRestSettings, _ files: [WALArchive.File], options: WALDeliveryOptions) async throws -> Int64
}

/// What `pgbackrest restore` left in the data folder.
public struct PgBackRestRestoreOutcome: Sendable, Equatable {
    /// Bytes per WAL segment (from `pg_controldata`).
    public var walSegmentSize: UInt64
    /// How long pgBackRest ran.
    public var toolSeconds: Double

    public init(walSegmentSize: UInt64, toolSeconds: Double) {
        self.walSegmentSize = walSegmentSize
        self.toolSeconds = toolSeconds
    }
}
