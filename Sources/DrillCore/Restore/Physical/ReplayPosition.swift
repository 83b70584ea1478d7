import Foundation

/// How far WAL replay is, from what drill sees while the server replays (it accepts no connection during recovery):
/// the segments drill announced to its waiting `restore_command` (everything replay will get, in order) and those the
/// script has handed over (`.served/`). The server asks for a segment when it has replayed the one before, so the
/// newest one handed over is the one being replayed; the position counts it as replayed to its end, which overstates
/// by at most one segment and reaches the total when the last one is taken.
public struct ReplayPosition: Sendable, Equatable {
    /// Bytes of WAL replayed (through the end of the segment being replayed).
    public var done: Int64
    /// Bytes of all the segments replay will get.
    public var total: Int64

    public init(done: Int64, total: Int64) {
        self.done = done
        self.total = total
    }

    /// The position from the announced names (history files are skipped) and the names served so far; nil when no
    /// segment is announced.
    public static func of(announced: [String], served: Set<String>, segmentSize: UInt64) -> ReplayPosition? {
        let segments = announced.filter(WALSegment.looksLikeName)
        guard !segments.isEmpty else { return nil }
        let taken = segments.lastIndex { served.contains($0) }.map { $0 + 1 } ?? 0
        let size = Int64(segmentSize)
        return ReplayPosition(done: Int64(taken) * size, total: Int64(segments.count) * size)
    }
}
