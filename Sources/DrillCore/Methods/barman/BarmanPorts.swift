import Foundation

/// The private scratch cluster a Barman drill restores into: a data folder the tool fills, a private WAL folder
/// `restore_command` copies from, and the recovery itself. Teardown stops the server and deletes all of it.
public protocol BarmanScratch: ScratchDatabase {
    /// The private folder `restore_command` copies from (`cp <folder>/%f %p`).
    var walDirectory: String { get }
    /// The time of the last commit in the WAL folder's segments `from`…`to` (for `recovery.target: random`).
    func lastCommit(from: WALSegment, to: WALSegment) async -> Date?
    /// Writes drill's recovery settings (restore_command from the WAL folder, the target, `archive_mode = off`),
    /// starts the server and waits until it is promoted.
    func recover(target: Date?) async throws -> RecoveryOutcome
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
    /// `barman list-files --target wal SERVER ID`: the archived WAL files a recovery of the backup would use (local
    /// files with their modification times), for `drill plan`.
    func walFiles(_ settings: BarmanSettings, id: String) async throws -> [BackupObject]
    /// Creates the private scratch cluster's folders (nothing runs yet).
    func prepare(drill: DrillConfig) async throws -> any BarmanServerScratch
}

public protocol BarmanServerScratch: BarmanScratch {
    /// `barman recover` of backup `id` into the data folder (through a folder of the Barman user's, handed to the
    /// server's user), then the WAL Barman copied moved into the private WAL folder. Returns those WAL files.
    func restore(_ settings: BarmanSettings, backup id: String) async throws -> [BackupObject]
}

/// The barman-cloud tools (`barman-cloud-backup-list`, `barman-cloud-restore`, `barman-cloud-wal-restore`), as the
/// `barman-cloud` method uses them. Each gets the AWS credentials from drill's environment; nothing else does.
public protocol BarmanCloudTool: Sendable {
    /// `barman-cloud-backup-list --format json` and the tool's name and version.
    func listBackups(_ settings: BarmanCloudSettings) async throws -> (backups: [BarmanBackup], tool: String)
    /// Creates the private scratch cluster's folders (nothing runs yet).
    func prepare(drill: DrillConfig) async throws -> any BarmanCloudScratch
}

public protocol BarmanCloudScratch: BarmanScratch {
    /// `barman-cloud-restore` of backup `id` into the (empty) data folder, handed to the server's user afterwards.
    /// Returns the bytes restored.
    func restore(_ settings: BarmanCloudSettings, backup id: String) async throws -> Int64
    /// Copies one archived WAL file from drill's S3 store into the WAL folder (decompressing `.gz`); returns its bytes.
    func importWAL(_ file: WALArchive.File, from store: any BackupStore) async throws -> Int64
    /// `barman-cloud-wal-restore` of one WAL file into the WAL folder (for `.bz2` / `.snappy`); returns its bytes.
    func fetchWAL(_ settings: BarmanCloudSettings, walName: String) async throws -> Int64
}
