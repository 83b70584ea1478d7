import Foundation

/// The `barman` block of a report: the backup a `barman` or `barman-cloud` drill restored, as the catalogue
/// describes it, and (for a Barman server) what `barman check-backup` and `barman verify-backup` said. WAL fetch and
/// replay are in the report's `wal` block. Versioned on its own; documented in docs/report-schema.md.
public struct BarmanEvidence: MethodEvidence {
    public static let currentVersion = 1
    public static var reportKey: WritableKeyPath<DrillReport, BarmanEvidence?> { \.barman }

    /// The result of one of Barman's own checks.
    public struct Check: Sendable, Codable, Equatable {
        /// The command (`barman check-backup`, `barman verify-backup`).
        public var tool: String
        public var ok: Bool
        /// What it said (its error, or its last message).
        public var detail: String?
        public init(tool: String, ok: Bool, detail: String? = nil) {
            self.tool = tool
            self.ok = ok
            self.detail = detail
        }
    }

    public var version: Int = BarmanEvidence.currentVersion
    /// `barman` or `barman-cloud`.
    public var kind: MethodKind
    public var server: String
    /// barman-cloud: `s3://bucket/prefix`; barman: the configuration file (`barman's default configuration` without one).
    public var location: String
    /// How many backups the catalogue listed, and how many of them were complete (`DONE`).
    public var backupsListed: Int
    public var backupsDone: Int
    public var backupId: String?
    public var status: String?
    public var beginTime: Date?
    public var endTime: Date?
    /// Where the times came from (`backup_info`, `show_backup`, `catalogue_epoch`, `catalogue_ctime_utc`).
    public var timeSource: String?
    /// The WAL the backup needs to be consistent: from `beginWal` to `endWal`.
    public var beginWal: String?
    public var endWal: String?
    public var beginLsn: String?
    public var endLsn: String?
    public var timeline: UInt32?
    public var systemId: String?
    /// The tool and its version (`barman 3.4.0`, `barman-cloud-backup-list 3.4.0`).
    public var tool: String?
    /// barman: `barman check-backup` (the WAL from the backup's start to its end is archived).
    public var checkBackup: Check?
    /// barman: `barman verify-backup` (pg_verifybackup against the backup's manifest).
    public var verifyBackup: Check?
    /// barman-cloud: WAL files fetched with `barman-cloud-wal-restore` (compressions drill does not read itself:
    /// bzip2, snappy); the others are fetched by drill's own S3 client.
    public var walFetchedWithTool: Int?

    public init(kind: MethodKind, server: String, location: String, backupsListed: Int = 0, backupsDone: Int = 0) {
        self.kind = kind
        self.server = server
        self.location = location
        self.backupsListed = backupsListed
        self.backupsDone = backupsDone
    }

    /// Copies the catalogue's description of the chosen backup.
    public mutating func record(_ b: BarmanBackup) {
        backupId = b.id
        status = b.status
        beginTime = b.beginTime
        endTime = b.endTime
        timeSource = b.timeSource
        beginWal = b.beginWAL
        endWal = b.endWAL
        beginLsn = b.beginLSN
        endLsn = b.endLSN
        timeline = b.timeline
        systemId = b.systemID
    }
}

extension MarkdownReport {
    /// Evidence rows of a `barman` / `barman-cloud` drill.
    static func barmanRows(_ b: BarmanEvidence) -> String {
        var md = "| \(b.kind == .barmanCloud ? "barman-cloud" : "Barman") server | \(escape(b.server)) (\(escape(b.location))) |\n"
        if let id = b.backupId { md += "| Barman backup | \(escape(id))\(b.status.map { ", \($0)" } ?? "") |\n" }
        if let s = b.beginTime, let e = b.endTime { md += "| Backup ran | \(RFC3339.format(s)) to \(RFC3339.format(e)) |\n" }
        if let s = b.beginWal { md += "| Backup WAL | \(s) to \(b.endWal ?? "?") |\n" }
        for c in [b.checkBackup, b.verifyBackup].compactMap({ $0 }) {
            md += "| \(escape(c.tool)) | \(c.ok ? "ok" : "**failed**")\(c.detail.map { ": \(escape(truncate($0, 200)))" } ?? "") |\n"
        }
        if let t = b.tool { md += "| Barman tool | \(escape(t)) |\n" }
        return md
    }
}
