import Foundation

/// The report's `pgbackrest` block: which backup was restored (from `pgbackrest info`), what `pgbackrest verify` said,
/// and how the WAL replay went. Filled in as the drill goes, so a failed drill shows how far it got.
public struct PgBackRestEvidence: MethodEvidence {
    public static let currentVersion = 1
    public static var reportKey: WritableKeyPath<DrillReport, PgBackRestEvidence?> { \.pgbackrest }

    public struct Verify: Sendable, Codable, Equatable {
        /// `ok` or `error`, as pgBackRest prints it.
        public var status: String
        /// The status of the restored backup itself (`valid`, `invalid`, …); nil when verify did not list it.
        public var backupStatus: String?
        public var backupsChecked: Int
        public var filesChecked: Int
        public var walChecked: Int
        /// Files verify named as damaged (relative to the repository's backup or archive folder).
        public var damaged: [String]
        public var summary: String

        public init(status: String, backupStatus: String?, backupsChecked: Int, filesChecked: Int, walChecked: Int,
                    damaged: [String], summary: String) {
            self.status = status
            self.backupStatus = backupStatus
            self.backupsChecked = backupsChecked
            self.filesChecked = filesChecked
            self.walChecked = walChecked
            self.damaged = damaged
            self.summary = summary
        }
    }

    public var version: Int = PgBackRestEvidence.currentVersion
    public var stanza: String
    public var repo: Int
    /// `backup.config`, when given (never a secret; without it pgBackRest ran with `--no-config`).
    public var config: String?
    /// The pgBackRest that ran the drill (`pgBackRest 2.45`).
    public var toolVersion: String?

    // From `pgbackrest info`.
    public var label: String?
    /// `full`, `diff` or `incr`.
    public var type: String?
    /// The backups whose files this one uses (its full backup, and for an incremental one the chain up to it).
    public var references: [String]?
    public var backupStartedAt: Date?
    public var backupStoppedAt: Date?
    public var walStart: String?
    public var walStop: String?
    public var lsnStart: String?
    public var lsnStop: String?
    /// The pgBackRest version that made the backup.
    public var backupVersion: String?
    /// `<PostgreSQL version>-<database id>`: the archive the WAL came from.
    public var archiveID: String?
    public var postgresVersion: String?
    /// The repository's newest archived segment, and its time in the repository.
    public var newestSegment: String?
    public var newestSegmentAt: Date?

    public var verify: Verify?

    // WAL fetched by drill (`pgbackrest archive-get`) and replayed by the scratch server.
    /// `latest`, `random` or the timestamp given.
    public var target: String
    public var targetTime: Date?
    public var firstMissingSegment: String?
    public var segmentsFetched: Int = 0
    public var bytesFetched: Int64 = 0
    public var replayedTo: String?
    public var timeline: UInt32?

    // Explicit keys: the report's snake_case strategies would write `archiveID` as `archive_id` but read it back as
    // `archiveId`.
    enum CodingKeys: String, CodingKey {
        case version, stanza, repo, config, toolVersion, label, type, references, backupStartedAt, backupStoppedAt
        case walStart, walStop, lsnStart, lsnStop, backupVersion, postgresVersion, newestSegment, newestSegmentAt
        case verify, target, targetTime, firstMissingSegment, segmentsFetched, bytesFetched, replayedTo, timeline
        case archiveID = "archiveId"
    }

    public init(stanza: String, repo: Int, config: String?, target: String) {
        self.stanza = stanza
        self.repo = repo
        self.config = config
        self.target = target
    }

    /// Records the backup the drill restores.
    public mutating func describe(_ b: PgBackRestInfo.Backup, archive: PgBackRestInfo.Archive?, database: PgBackRestInfo.Database?) {
        label = b.label
        type = b.type
        references = b.reference.isEmpty ? nil : b.reference
        backupStartedAt = b.startedAt
        backupStoppedAt = b.stoppedAt
        walStart = b.walStart
        walStop = b.walStop
        lsnStart = b.lsnStart
        lsnStop = b.lsnStop
        backupVersion = b.pgBackRestVersion
        archiveID = archive?.id
        postgresVersion = database?.version
    }
}
