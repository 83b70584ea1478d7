import DrillCore
import Foundation

/// A store listing fixed objects (a WAL archive's segment names); staging returns them in place.
public struct FakeListingStore: BackupStore {
    public var objects: [BackupObject]
    public init(names: [String], modifiedAt: Date) {
        objects = names.map { BackupObject(uri: "/wal/\($0)", name: $0, sizeBytes: 16 << 20, modifiedAt: modifiedAt) }
    }
    public func list(matching pattern: Glob?) async throws -> [BackupObject] { objects }
    public func head(_ object: BackupObject, count: Int) async throws -> [UInt8] { [] }
    public func stage(_ object: BackupObject, into directory: String, progress: TransferProgress?) async throws -> StagedBackup {
        StagedBackup(path: object.uri, isDirectory: object.isDirectory, sizeBytes: object.sizeBytes ?? 0,
                     sha256: String(repeating: "b", count: 64), isTemporary: false)
    }
    public func stream(_ object: BackupObject, to sink: FileHandle, progress: TransferProgress?) async throws -> StreamReceipt {
        StreamReceipt(bytes: 0, sha256: "")
    }
    public func sidecarDigest(for object: BackupObject) async throws -> String? { nil }
}

/// Routes the backup location and the WAL location to different fake stores.
public struct FakeStores: BackupStoreFactory {
    public var backup: any BackupStore, wal: any BackupStore, walLocation: String
    public init(backup: any BackupStore, wal: any BackupStore, walLocation: String) {
        self.backup = backup
        self.wal = wal
        self.walLocation = walLocation
    }
    public func store(location: String, endpoint: String?, region: String?) throws -> any BackupStore {
        location == walLocation ? wal : backup
    }
}

/// A physical restore that records its steps, takes time on the manual clock, and "replays" to a given commit.
public final class FakePhysicalSession: PhysicalSession, @unchecked Sendable {
    public let clock: ManualClock, log: FakeLog
    public let label: BackupLabel
    public let lastCommit: Date?
    public let verifyFails: Bool
    private let lock = NSLock()
    private var _imported: [String] = []
    private var _target: Date??

    public init(clock: ManualClock, log: FakeLog, label: BackupLabel, lastCommit: Date?, verifyFails: Bool = false) {
        self.clock = clock
        self.log = log
        self.label = label
        self.lastCommit = lastCommit
        self.verifyFails = verifyFails
    }

    public var imported: [String] { lock.withLock { _imported } }
    /// The target `recover` was called with (nil: not called; .some(nil): latest).
    public var recoveredTo: Date?? { lock.withLock { _target } }

    public var kind: String { "embedded" }
    public var database: String { "postgres" }
    public var connection: ConnectionParameters { ConnectionParameters(["dbname": "postgres"]) }
    public var serverVersion: String { "15.0" }
    public var settings: [String: String] { [:] }
    public var keepInstructions: String { "psql postgres" }
    public var walDirectory: String { "/nonexistent-wal" }
    public func teardown() async -> TeardownResult {
        log.add("teardown")
        return TeardownResult(removed: true)
    }
    public func extract(_ backup: StagedBackup) async throws -> ExtractedBackup {
        log.add("extract")
        clock.advance(by: .seconds(3))
        return ExtractedBackup(label: label, hasManifest: true, walSegmentSize: WALSegment.defaultSize, includesWAL: true, bytes: 1)
    }
    public func verify() async throws -> String {
        log.add("verify")
        clock.advance(by: .seconds(1))
        if verifyFails { throw DrillError(.backupCorrupt, "pg_verifybackup found the base backup damaged: checksum mismatch for file \"base/1/1259\"") }
        return "pg_verifybackup 15.0"
    }
    public func importWAL(_ file: WALArchive.File, from store: any BackupStore) async throws -> Int64 {
        lock.withLock { _imported.append(file.walName) }
        clock.advance(by: .milliseconds(100))
        return file.object.sizeBytes ?? 0
    }
    public func lastCommit(from: WALSegment, to: WALSegment) async -> Date? { lastCommit }
    public func recover(target: Date?) async throws -> RecoveryOutcome {
        log.add("recover")
        lock.withLock { _target = .some(target) }
        clock.advance(by: .seconds(5))
        let reached = target.map { t in lastCommit.map { min($0, t) } ?? t } ?? lastCommit
        return RecoveryOutcome(lastReplayedCommit: reached, replayLSN: "0/5000000", timeline: 2, serverVersion: "15.0")
    }
}

/// Hands out one prepared fake session.
public struct FakePhysicalRestorer: PhysicalRestorer {
    public let session: FakePhysicalSession
    public init(session: FakePhysicalSession) { self.session = session }
    public func prepare(drill: DrillConfig, profile: RestoreProfile) async throws -> any PhysicalSession {
        session.log.add("prepare")
        return session
    }
}
