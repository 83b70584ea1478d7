import Foundation

/// Restores physical backups (`pg_basebackup` output plus a WAL archive): it provisions its own scratch cluster from
/// the backup, so it is a provisioner and a restorer in one. The drill drives it step by step and times each step.
public protocol PhysicalRestorer: Sendable {
    /// Creates the private scratch root (data folder, WAL folder, socket folder); starts nothing yet.
    func prepare(drill: DrillConfig, profile: RestoreProfile) async throws -> any PhysicalSession
    /// The same with the PostgreSQL chosen for the backup's major (by default the choice is ignored).
    func prepare(drill: DrillConfig, profile: RestoreProfile, postgres: PostgresInstallation?) async throws -> any PhysicalSession
    /// The PostgreSQL version of a staged base backup (its `PG_VERSION`), nil when it cannot be read (by default).
    func backupVersion(_ staged: StagedBackup) async -> PostgresVersion?
    /// The incremental chain (PostgreSQL 17+) a backup folder ends, its parents found beside it under
    /// `backup.location`, plain or tar format; nil for a full backup (by default: nothing is incremental). Throws
    /// naming a missing link.
    func incrementalChain(_ staged: StagedBackup, drill: DrillConfig) async throws -> IncrementalChain?
}

extension PhysicalRestorer {
    public func prepare(drill: DrillConfig, profile: RestoreProfile, postgres: PostgresInstallation?) async throws -> any PhysicalSession {
        try await prepare(drill: drill, profile: profile)
    }

    public func backupVersion(_ staged: StagedBackup) async -> PostgresVersion? { nil }

    public func incrementalChain(_ staged: StagedBackup, drill: DrillConfig) async throws -> IncrementalChain? { nil }
}

/// One physical restore in a private scratch cluster. Teardown stops the server (if started) and deletes everything,
/// the fetched WAL included.
public protocol PhysicalSession: WALReplaySession {
    /// Extracts the staged backup (tar, tar.gz, or a plain-format folder) into the private data folder.
    func extract(_ backup: StagedBackup) async throws -> ExtractedBackup
    /// Checks the extracted backup against its `backup_manifest` with `pg_verifybackup`; throws `backupCorrupt` when it
    /// does not match.
    func verify() async throws -> String
    /// Copies one archived WAL file into the private WAL folder under `walName` (decompressing `.gz`); returns the
    /// bytes fetched from the store.
    func importWAL(_ file: WALArchive.File, from store: any BackupStore) async throws -> Int64
    // Streaming and overlap (defaults below: one step after another).
    func extractStreaming(_ files: [BackupObject], from store: any BackupStore, progress: TransferProgress?) async throws -> StreamedExtraction?
    func peekLabel(_ files: [BackupObject], from store: any BackupStore) async -> BackupLabel?
    func deliverWAL(_ files: [WALArchive.File], from store: any BackupStore, options: WALDeliveryOptions,
                    progress: TransferProgress?) async throws -> Int64
    // Incremental chains (PostgreSQL 17+; defaults below: not supported).
    /// Copies every backup of the chain, full backup first, into private folders the server's account owns (a tar
    /// format backup extracted, a plain one copied), as `extract` would.
    func copyChain(_ chain: IncrementalChain) async throws -> CopiedChain
    /// Combines the copies with `pg_combinebackup` into the data folder, deletes them, and reads what `extract` reads.
    func combineChain(_ copied: CopiedChain) async throws -> ExtractedBackup
}

/// The backups of an incremental chain, copied into private folders: what `pg_combinebackup` combines.
public struct CopiedChain: Sendable, Equatable {
    /// Full backup first.
    public var folders: [String]
    /// The backups' stored bytes.
    public var bytes: Int64

    public init(folders: [String], bytes: Int64) {
        self.folders = folders
        self.bytes = bytes
    }
}

/// A tar-format backup folder streamed from its store into the data folder: what extraction found and the digest of
/// the bytes that went through (the same folder digest staging computes).
public struct StreamedExtraction: Sendable, Equatable {
    public var extracted: ExtractedBackup
    public var sha256: String
    public var sizeBytes: Int64
    public init(extracted: ExtractedBackup, sha256: String, sizeBytes: Int64) {
        self.extracted = extracted
        self.sha256 = sha256
        self.sizeBytes = sizeBytes
    }
}

/// Streaming and overlap, for sessions that can do them; the defaults do everything one step after another.
extension PhysicalSession {
    public func copyChain(_ chain: IncrementalChain) async throws -> CopiedChain {
        throw DrillError(.unsupported, "this kind of drill does not combine incremental backups")
    }

    public func combineChain(_ copied: CopiedChain) async throws -> ExtractedBackup {
        throw DrillError(.unsupported, "this kind of drill does not combine incremental backups")
    }

    /// Streams a tar-format backup folder (`files`, listed in `store`) into the data folder without a staged copy,
    /// hashing on the way; nil when this session cannot (the caller stages the folder and calls `extract`).
    public func extractStreaming(_ files: [BackupObject], from store: any BackupStore,
                                 progress: TransferProgress?) async throws -> StreamedExtraction? { nil }
    /// The backup's `backup_label`, read from the head of its base archive before extraction (so WAL can be fetched
    /// while the backup is extracted); nil when it cannot be read that way.
    public func peekLabel(_ files: [BackupObject], from store: any BackupStore) async -> BackupLabel? { nil }
    /// Delivers `files` (in replay order) into the private WAL folder; returns the bytes fetched. Sessions that
    /// prefetch run it while replay runs; by default every file is imported one after another.
    public func deliverWAL(_ files: [WALArchive.File], from store: any BackupStore, options: WALDeliveryOptions,
                           progress: TransferProgress?) async throws -> Int64 {
        var bytes: Int64 = 0
        for file in files {
            try Task.checkCancellation()
            bytes += try await importWAL(file, from: store)
            progress?(bytes, nil)
        }
        return bytes
    }
}

/// What extraction found.
public struct ExtractedBackup: Sendable, Equatable {
    public var label: BackupLabel
    public var hasManifest: Bool
    /// Bytes per WAL segment (from `pg_controldata`).
    public var walSegmentSize: UInt64
    /// Whether the backup carries its own WAL (`pg_wal.tar` or a populated `pg_wal/`).
    public var includesWAL: Bool
    public var bytes: Int64

    public init(label: BackupLabel, hasManifest: Bool, walSegmentSize: UInt64, includesWAL: Bool, bytes: Int64) {
        self.label = label
        self.hasManifest = hasManifest
        self.walSegmentSize = walSegmentSize
        self.includesWAL = includesWAL
        self.bytes = bytes
    }
}

/// What the server reached.
public struct RecoveryOutcome: Sendable, Equatable {
    /// `pg_last_xact_replay_timestamp()`: the last replayed commit, the measured recovery point.
    public var lastReplayedCommit: Date?
    /// `pg_last_wal_replay_lsn()`.
    public var replayLSN: String?
    /// The timeline the server is on after promotion.
    public var timeline: UInt32?
    public var serverVersion: String

    public init(lastReplayedCommit: Date?, replayLSN: String?, timeline: UInt32?, serverVersion: String) {
        self.lastReplayedCommit = lastReplayedCommit
        self.replayLSN = replayLSN
        self.timeline = timeline
        self.serverVersion = serverVersion
    }
}
