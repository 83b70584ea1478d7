import Foundation

/// A WAL archive's listing, classified: segments (plain or `.gz`, as a typical `archive_command` writes them),
/// timeline history files and backup history files. Anything else (`.partial`, `.ready`, stray files) is ignored.
public struct WALArchive: Sendable {
    /// One archived file and the name PostgreSQL knows it by.
    public struct File: Sendable, Equatable {
        /// The name PostgreSQL asks `restore_command` for (without `.gz`).
        public var walName: String
        /// The object in the store.
        public var object: BackupObject
        /// Whether it is stored with a `.gz` suffix and must be decompressed.
        public var compressed: Bool

        public init(walName: String, object: BackupObject, compressed: Bool) {
            self.walName = walName
            self.object = object
            self.compressed = compressed
        }
    }

    /// Segment files by segment (when both `X` and `X.gz` exist, the plain one).
    public var segments: [WALSegment: File] = [:]
    /// `NNNNNNNN.history`, by timeline.
    public var timelineHistories: [UInt32: File] = [:]
    /// `<segment>.<offset>.backup`, by name.
    public var backupHistories: [String: File] = [:]

    /// Classifies a store's listing of the archive.
    public init(objects: [BackupObject], segmentSize: UInt64 = WALSegment.defaultSize) {
        for o in objects where !o.isDirectory {
            let compressed = o.name.hasSuffix(".gz")
            let name = compressed ? String(o.name.dropLast(3)) : o.name
            let file = File(walName: name, object: o, compressed: compressed)
            if let seg = WALSegment(name: name, segmentSize: segmentSize) {
                // When both X and X.gz exist, the plain one wins.
                if segments[seg] == nil || segments[seg]!.compressed { segments[seg] = file }
            } else if name.hasSuffix(".history"), name.count == 16, let tli = UInt32(name.prefix(8), radix: 16) {
                if timelineHistories[tli] == nil || timelineHistories[tli]!.compressed { timelineHistories[tli] = file }
            } else if name.hasSuffix(".backup"), name.count == 24 + 1 + 8 + 7 {
                if backupHistories[name] == nil || backupHistories[name]!.compressed { backupHistories[name] = file }
            }
        }
    }

    /// The newest segment in the archive (highest position, then timeline), with its file.
    public var newest: (segment: WALSegment, file: File)? {
        segments.max { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// What a restore from a backup starting at `start` needs: every archived segment from `start` (on its timeline or
    /// a later one) up to the newest, and the first gap. Nothing after a gap is fetched: it could not be replayed.
    public func plan(from start: WALSegment) -> WALFetchPlan {
        var byNumber: [UInt64: [WALSegment]] = [:]
        for seg in segments.keys where seg.timeline >= start.timeline && seg.number >= start.number {
            byNumber[seg.number, default: []].append(seg)
        }
        let newest = byNumber.keys.max()
        var files: [File] = []
        var gap: WALSegment?
        var last: WALSegment?
        var n = start.number
        while let newest, n <= newest {
            guard let here = byNumber[n]?.sorted() else {
                gap = WALSegment(timeline: last?.timeline ?? start.timeline, number: n, segmentSize: start.segmentSize)
                break
            }
            files += here.map { segments[$0]! }
            last = here.last
            n += 1
        }
        if newest == nil { gap = start }
        let histories = timelineHistories.filter { $0.key >= start.timeline }.sorted { $0.key < $1.key }.map(\.value)
        return WALFetchPlan(start: start, segments: files, histories: histories, lastContiguous: last, firstMissing: gap,
                            newestArchived: newest.flatMap { n in byNumber[n]?.max() })
    }
}

/// The WAL files a physical restore fetches, and the archive's health from the backup onwards.
public struct WALFetchPlan: Sendable, Equatable {
    /// The backup's start segment.
    public var start: WALSegment
    /// Segments from the backup's start up to the first gap, in order.
    public var segments: [WALArchive.File]
    /// Timeline history files of the backup's timeline and later ones (recovery follows the latest timeline).
    public var histories: [WALArchive.File]
    /// The last segment that can be replayed (before any gap).
    public var lastContiguous: WALSegment?
    /// The first segment missing between the backup's start and the newest archived segment.
    public var firstMissing: WALSegment?
    /// The newest archived segment at or after the start (on the backup's timeline or a later one).
    public var newestArchived: WALSegment?

    /// The finding for a gap: everything after it is unrecoverable.
    public var gapFinding: String? {
        guard let gap = firstMissing else { return nil }
        if newestArchived == nil {
            return "WAL archive gap: no segment from \(start.name) onwards is archived (the backup's start segment \(gap.name) is missing); point-in-time recovery past the backup is impossible."
        }
        return "WAL archive gap: segment \(gap.name) is missing; the archive holds segments up to \(newestArchived!.name), but nothing after \(lastContiguous?.name ?? start.name) can be replayed."
    }
}
