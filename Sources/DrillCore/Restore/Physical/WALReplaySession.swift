import Foundation

/// The report block a physical method records its WAL in: `wal` (basebackup, barman, barman-cloud) or `pgbackrest`.
public protocol WALReplayEvidence: MethodEvidence {
    var newestSegment: String? { get set }
    var newestSegmentAt: Date? { get set }
    var firstMissingSegment: String? { get set }
    var segmentsFetched: Int { get set }
    var bytesFetched: Int64 { get set }
    var targetTime: Date? { get set }
    var replayedTo: String? { get set }
    var timeline: UInt32? { get set }
}

/// The scratch cluster every physical method recovers in, as the shared WAL logic sees it: a private WAL folder the
/// server's `restore_command` reads, and the recovery itself.
public protocol WALReplaySession: ScratchDatabase {
    /// The private folder `restore_command` copies from.
    var walDirectory: String { get }
    /// The time of the last commit in the fetched segments `from`…`to` (read with `pg_waldump`), or nil.
    func lastCommit(from: WALSegment, to: WALSegment) async -> Date?
    /// Writes the recovery settings (restore_command from the WAL folder, the target, `archive_mode = off`), starts
    /// the server and waits until recovery has finished and the server is promoted.
    func recover(target: Date?) async throws -> RecoveryOutcome
    /// The same, reporting how far replay is: bytes of the announced WAL replayed, of all it will replay (by default
    /// nothing is reported).
    func recover(target: Date?, progress: TransferProgress?) async throws -> RecoveryOutcome
    /// Whether WAL may still be delivered while `recover` replays (its restore_command waits for announced files).
    var deliversDuringReplay: Bool { get }
}

extension WALReplaySession {
    public func recover(target: Date?, progress: TransferProgress?) async throws -> RecoveryOutcome {
        try await recover(target: target)
    }

    public var deliversDuringReplay: Bool { false }
}

extension DrillReport.WAL: WALReplayEvidence {}
extension PgBackRestEvidence: WALReplayEvidence {}
