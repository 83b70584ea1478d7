import Foundation

/// One backup in a Barman catalogue (a Barman server's, or barman-cloud's in a bucket), as the tools describe it.
public struct BarmanBackup: Sendable, Equatable {
    public var id: String
    /// `DONE`, `WAITING_FOR_WALS`, `FAILED`, `STARTED`, … Only `DONE` backups are restored.
    public var status: String
    public var beginTime: Date?
    public var endTime: Date?
    /// Where `beginTime`/`endTime` came from: `backup_info` (barman-cloud's `backup.info`, with its UTC offset),
    /// `show_backup` (Barman's zoned times), `catalogue_epoch` (whole seconds), `catalogue_ctime_utc` (a zone-less
    /// `ctime` string read as UTC: only used to order backups).
    public var timeSource: String?
    public var beginWAL: String?
    public var endWAL: String?
    public var beginLSN: String?
    public var endLSN: String?
    public var timeline: UInt32?
    public var systemID: String?
    /// `server_version_num` of the backed-up cluster (e.g. 150018).
    public var postgresVersion: Int?
    public var sizeBytes: Int64?
    /// Bytes per WAL segment (`xlog_segment_size`).
    public var segmentSize: UInt64?
    /// The tool's error text for a failed backup.
    public var error: String?

    public init(id: String, status: String, beginTime: Date? = nil, endTime: Date? = nil, timeSource: String? = nil,
                beginWAL: String? = nil, endWAL: String? = nil, beginLSN: String? = nil, endLSN: String? = nil,
                timeline: UInt32? = nil, systemID: String? = nil, postgresVersion: Int? = nil, sizeBytes: Int64? = nil,
                segmentSize: UInt64? = nil, error: String? = nil) {
        self.id = id
        self.status = status
        self.beginTime = beginTime
        self.endTime = endTime
        self.timeSource = timeSource
        self.beginWAL = beginWAL
        self.endWAL = endWAL
        self.beginLSN = beginLSN
        self.endLSN = endLSN
        self.timeline = timeline
        self.systemID = systemID
        self.postgresVersion = postgresVersion
        self.sizeBytes = sizeBytes
        self.segmentSize = segmentSize
        self.error = error
    }

    public var isDone: Bool { status == "DONE" }

    /// Fills what this entry lacks (and replaces the times, when `other`'s are zoned) from a more detailed description
    /// of the same backup.
    public func merged(with other: BarmanBackup) -> BarmanBackup {
        var b = self
        if other.endTime != nil, other.timeSource != "catalogue_ctime_utc" || b.endTime == nil {
            b.beginTime = other.beginTime ?? b.beginTime
            b.endTime = other.endTime
            b.timeSource = other.timeSource
        }
        b.beginWAL = other.beginWAL ?? b.beginWAL
        b.endWAL = other.endWAL ?? b.endWAL
        b.beginLSN = other.beginLSN ?? b.beginLSN
        b.endLSN = other.endLSN ?? b.endLSN
        b.timeline = other.timeline ?? b.timeline
        b.systemID = other.systemID ?? b.systemID
        b.postgresVersion = other.postgresVersion ?? b.postgresVersion
        b.sizeBytes = other.sizeBytes ?? b.sizeBytes
        b.segmentSize = other.segmentSize ?? b.segmentSize
        b.error = other.error ?? b.error
        b.status = other.status.isEmpty ? b.status : other.status
        return b
    }
}

/// Choosing the backup a drill restores from a catalogue.
public enum BarmanCatalogue {
    /// The `DONE` backups, newest first (by end time, then id: Barman ids are start timestamps).
    public static func usable(_ backups: [BarmanBackup]) -> [BarmanBackup] {
        backups.filter(\.isDone).sorted { a, b in
            let ea = a.endTime ?? .distantPast, eb = b.endTime ?? .distantPast
            return ea != eb ? ea > eb : a.id > b.id
        }
    }

    /// Why nothing can be restored from `backups` (none at all, or none `DONE`), naming `where`.
    public static func nothingUsable(_ backups: [BarmanBackup], where place: String) -> DrillError {
        if backups.isEmpty {
            return DrillError(.backupNotFound, "\(place) holds no backup")
        }
        let statuses = Dictionary(grouping: backups, by: \.status).map { "\($0.value.count) \($0.key)" }.sorted()
        let failed = usableError(backups).map { " (backup \($0.id): \($0.error!))" } ?? ""
        return DrillError(.backupNotFound, "\(place) holds no completed backup: \(statuses.joined(separator: ", "))\(failed)")
    }

    /// The newest backup that carries an error message.
    static func usableError(_ backups: [BarmanBackup]) -> BarmanBackup? {
        backups.filter { $0.error != nil }.max { $0.id < $1.id }
    }

    /// The backup a drill restores: the newest `DONE` one, or for a time target the newest that ended before it.
    /// `zoned` replaces a backup's catalogue times by exact ones when the catalogue's are zone-less (barman-cloud).
    public static func choose(_ backups: [BarmanBackup], target: RecoveryTarget, place: String,
                              zoned: (BarmanBackup) async throws -> BarmanBackup) async throws -> BarmanBackup {
        let usable = BarmanCatalogue.usable(backups)
        guard !usable.isEmpty else { throw BarmanCatalogue.nothingUsable(backups, where: place) }
        guard case .time(let t) = target else { return try await zoned(usable[0]) }
        var oldestEnd: Date?
        for b in usable {
            let exact = try await zoned(b)
            if let end = exact.endTime, end <= t { return exact }
            oldestEnd = exact.endTime ?? oldestEnd
        }
        throw DrillError(.configuration,
                         "recovery.target \(RFC3339.format(t, fractional: true)) is before the end of every completed backup in \(place) (the oldest ended \(oldestEnd.map { RFC3339.format($0, fractional: true) } ?? "at an unknown time")): no backup can recover to it")
    }
}
