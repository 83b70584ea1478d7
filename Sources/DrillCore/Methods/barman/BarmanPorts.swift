import Foundation

/// The private scratch cluster a Barman drill restores into: a data folder the tool fills, a private WAL folder
/// `restore_command` reads (drill's waiting script, fed while the server replays), and the recovery itself. Teardown
/// stops the server and deletes all of it.
public protocol BarmanScratch: WALReplaySession {}

/// What a Barman tool's restore left in the data folder.
public struct BarmanRestoreOutcome: Sendable, Equatable {
    /// Bytes restored (the data folder's size), when the method reports them (barman-cloud: its catalogue has no
    /// size); nil for Barman, whose catalogue gives the backup's size.
    public var bytes: Int64?
    /// Bytes per WAL segment (from `pg_controldata`).
    public var walSegmentSize: UInt64

    public init(bytes: Int64?, walSegmentSize: UInt64) {
        self.bytes = bytes
        self.walSegmentSize = walSegmentSize
    }
}

/// The Barman server tools on this host (`barman`), as the `barman` method uses them.
public protocol BarmanTool: Sendable {
    /// `barman --version` (e.g. `barman 3.4.0`); nil when it cannot be read.
    func version(_ settings: BarmanSettings) async -> String?
    /// `barman -f json list-backups SERVER`.
    func listBackups(_ settings: BarmanSettings) async throws -> [BarmanBackup]
    /// `barman -f json show-backup SERVER ID`.
    func showBackup(_ settings: BarmanSettings, id: String) async throws -> BarmanBackup
    /// `barman check-backup SERVER ID`: whether the WAL from the backup's start to its end is archived.
    func checkBackup(_ settings: BarmanSettings, id: String) async throws -> BarmanEvidence.Check
    /// `barman verify-backup SERVER ID`: pg_verifybackup against the backup's manifest. `available` is false when it
    /// could not run (no pg_verifybackup, no manifest): that is not a damaged backup.
    func verifyBackup(_ settings: BarmanSettings, id: String) async throws -> (check: BarmanEvidence.Check, available: Bool)
    /// `barman list-files --target wal SERVER ID`: the archived WAL files a recovery of the backup uses, from its
    /// start on (the files in Barman's catalogue, with their paths and modification times).
    func walFiles(_ settings: BarmanSettings, id: String) async throws -> [BackupObject]
    /// Creates the private scratch cluster's folders (nothing runs yet), with the server programs of `postgres` (the
    /// backup's major; nil: the tool's default).
    func prepare(drill: DrillConfig, postgres: PostgresInstallation?) async throws -> any BarmanServerScratch
}

public protocol BarmanServerScratch: BarmanScratch {
    /// `barman recover --get-wal` of backup `id` into the data folder (through a folder of the Barman user's, handed
    /// to the server's user): the backup's files only; drill delivers the WAL itself.
    func restore(_ settings: BarmanSettings, backup id: String) async throws -> BarmanRestoreOutcome
    /// Copies `files` (Barman's archived WAL, in replay order; decompressing what Barman compressed) into the private
    /// WAL folder, `options.connections` at once, while the server replays; returns the bytes read. A file that is
    /// gone fails with `WALDeliveryError` naming it (replay gets nothing after it).
    func deliverWAL(_ files: [WALArchive.File], options: WALDeliveryOptions) async throws -> Int64
}

/// The barman-cloud tools (`barman-cloud-backup-list`, `barman-cloud-restore`, `barman-cloud-wal-restore`), as the
/// `barman-cloud` method uses them. Each gets the AWS credentials from drill's environment; nothing else does.
public protocol BarmanCloudTool: Sendable {
    /// `barman-cloud-backup-list --format json` and the tool's name and version.
    func listBackups(_ settings: BarmanCloudSettings) async throws -> (backups: [BarmanBackup], tool: String)
    /// Creates the private scratch cluster's folders (nothing runs yet), with the server programs of `postgres` (the
    /// backup's major; nil: the tool's default).
    func prepare(drill: DrillConfig, postgres: PostgresInstallation?) async throws -> any BarmanCloudScratch
}

public protocol BarmanCloudScratch: BarmanScratch {
    /// `barman-cloud-restore` of backup `id` into the (empty) data folder, handed to the server's user afterwards.
    func restore(_ settings: BarmanCloudSettings, backup id: String) async throws -> BarmanRestoreOutcome
    /// Brings `files` (in replay order) into the private WAL folder, `options.connections` at once, while the server
    /// replays: plain and `.gz` files from drill's S3 `store`, `.bz2` / `.snappy` ones with `barman-cloud-wal-restore`
    /// (`BarmanCloudWAL.needsTool`). Returns the bytes fetched; a file that cannot be fetched fails with
    /// `WALDeliveryError` naming it.
    func deliverWAL(_ files: [WALArchive.File], from store: any BackupStore, settings: BarmanCloudSettings,
                    options: WALDeliveryOptions) async throws -> Int64
}
