import Foundation

/// How WAL is delivered to replay: several files fetched at once, at most a window ahead of what replay has taken.
public struct WALDeliveryOptions: Sendable, Equatable {
    public var connections: Int
    /// Fetched bytes allowed to wait on disk ahead of replay (nil: no bound, everything is fetched before replay).
    public var windowBytes: Int64?
    /// Bytes per segment: a fetched segment takes that much disk, decompressed.
    public var segmentSize: UInt64
    public init(connections: Int, windowBytes: Int64?, segmentSize: UInt64 = WALSegment.defaultSize) {
        self.connections = max(1, connections)
        self.windowBytes = windowBytes
        self.segmentSize = segmentSize
    }
}

/// A WAL file the archive listed that could not be fetched while replay ran: replay stopped before it.
public struct WALDeliveryError: Error, Sendable {
    public var walName: String
    public var reason: String
    public init(walName: String, reason: String) {
        self.walName = walName
        self.reason = reason
    }
}

/// What a physical method found about its WAL before any is delivered: the archive's listing and the backup it
/// replays from.
public struct WALListing: Sendable {
    public var archive: WALArchive
    /// The segment the backup started in.
    public var start: WALSegment
    /// The segment the backup ended in: the WAL it needs to be consistent at all (nil: unknown).
    public var stop: WALSegment?
    /// When the backup ended: recovery cannot stop earlier.
    public var backupEnd: Date
    public var segmentSize: UInt64
    /// The backup as the gap message names it (`Backup 20261201T210451`, `The backup`).
    public var backupName: String
    /// Whether the restored data folder carries the WAL to its own end (`pg_basebackup -X stream`).
    public var carriesOwnWAL: Bool

    public init(archive: WALArchive, start: WALSegment, stop: WALSegment?, backupEnd: Date, segmentSize: UInt64,
                backupName: String, carriesOwnWAL: Bool = false) {
        self.archive = archive
        self.start = start
        self.stop = stop
        self.backupEnd = backupEnd
        self.segmentSize = segmentSize
        self.backupName = backupName
        self.carriesOwnWAL = carriesOwnWAL
    }
}

/// WAL being delivered to the session, and what the archive's listing told.
public struct WALDelivery: Sendable {
    let task: Task<Int64, any Error>
    public let plan: WALFetchPlan
    public let backupEnd: Date
    public let segmentSize: UInt64
    public let newestModifiedAt: Date?
    /// When the archive was listed: every file replay gets was archived before then, so no replayed commit can be
    /// newer (unless a clock is wrong).
    public let listedAt: Date

    /// Waits until every file was delivered; rethrows a delivery failure (a gap found while replay ran).
    func finished(cancelledIsFine: Bool = false) async throws {
        if case .failure(let error) = await task.result {
            if cancelledIsFine, error is CancellationError { return }
            throw error
        }
    }
}
