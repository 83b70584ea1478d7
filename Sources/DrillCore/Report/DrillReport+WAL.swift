import Foundation

extension DrillReport {
    /// The WAL side of a physical restore (absent from reports of pg_dump backups). Versioned on its own so it can grow
    /// without changing the report's `schema_version`; documented in `docs/physical-backups.md`.
    public struct WAL: Sendable, Codable, Equatable {
        public static let currentVersion = 1

        public var version: Int = WAL.currentVersion
        /// `wal.location` of the drill file.
        public var location: String
        /// The segment the base backup started in (from `backup_label`).
        public var startSegment: String?
        /// For an incremental backup: the chain `pg_combinebackup` combined, full backup first (folder names); absent
        /// for a full backup.
        public var incrementalChain: [String]?
        /// The tool that checked the extracted backup against its `backup_manifest` (`pg_verifybackup 15.18`); nil when
        /// the backup has no manifest.
        public var verifiedWith: String?
        /// When the base backup finished: recovery cannot stop earlier.
        public var backupEndAt: Date?
        /// `backup_history_file` (STOP TIME of the archived `.backup` file, rounded up to the next whole second),
        /// `backup_history_mtime` or `backup_mtime`.
        public var backupEndSource: String?
        public var newestSegment: String?
        /// The newest segment's modification time in the archive.
        public var newestSegmentAt: Date?
        /// The first segment missing between the backup's start and the newest segment; nil when contiguous.
        public var firstMissingSegment: String?
        public var segmentsFetched: Int
        public var bytesFetched: Int64
        /// `latest`, `random` or the timestamp given.
        public var target: String
        /// The time recovery was told to stop at (for `random`: the one chosen).
        public var targetTime: Date?
        /// `pg_last_wal_replay_lsn()` after recovery.
        public var replayedTo: String?
        /// The timeline the restored server is on after promotion.
        public var timeline: UInt32?

        public init(location: String, target: String, segmentsFetched: Int = 0, bytesFetched: Int64 = 0) {
            self.location = location
            self.target = target
            self.segmentsFetched = segmentsFetched
            self.bytesFetched = bytesFetched
        }
    }
}
