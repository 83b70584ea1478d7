import DrillCore
import Foundation
import Logging

/// A clock that moves only when told to: drill arithmetic can be tested to the millisecond without waiting.
public final class ManualClock: Clock, @unchecked Sendable {
    public struct Instant: InstantProtocol {
        public var offset: Duration
        public func advanced(by d: Duration) -> Instant { Instant(offset: offset + d) }
        public func duration(to other: Instant) -> Duration { other.offset - offset }
        public static func < (a: Instant, b: Instant) -> Bool { a.offset < b.offset }
    }

    private let lock = NSLock()
    private var current = Instant(offset: .zero)
    public init() {}
    public var now: Instant { lock.withLock { current } }
    public var minimumResolution: Duration { .nanoseconds(1) }
    public func advance(by d: Duration) { lock.withLock { current = current.advanced(by: d) } }
    public func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        lock.withLock { if current < deadline { current = deadline } }
    }
}

/// Records what fakes were asked to do.
public final class FakeLog: @unchecked Sendable {
    private let lock = NSLock()
    private var _events: [String] = []
    public init() {}
    public func add(_ e: String) { lock.withLock { _events.append(e) } }
    public var events: [String] { lock.withLock { _events } }
}

/// A store holding one backup whose first bytes are `head`.
public struct FakeStore: BackupStore, BackupStoreFactory {
    public var object: BackupObject?
    public var head: [UInt8]
    public init(object: BackupObject?, head: [UInt8]) {
        self.object = object
        self.head = head
    }
    public func store(location: String, endpoint: String?, region: String?) throws -> any BackupStore { self }
    public func list(matching pattern: Glob?) async throws -> [BackupObject] { object.map { [$0] } ?? [] }
    public func head(_ object: BackupObject, count: Int) async throws -> [UInt8] { Array(head.prefix(count)) }
    public func stage(_ object: BackupObject, into directory: String, progress: TransferProgress?) async throws -> StagedBackup {
        StagedBackup(path: "/fake/\(object.name)", isDirectory: false, sizeBytes: object.sizeBytes ?? 0,
                     sha256: String(repeating: "a", count: 64), isTemporary: false)
    }
    public func stream(_ object: BackupObject, to sink: FileHandle, progress: TransferProgress?) async throws -> StreamReceipt {
        StreamReceipt(bytes: 0, sha256: String(repeating: "a", count: 64))
    }
    public func sidecarDigest(for object: BackupObject) async throws -> String? { nil }
}

/// A scratch database that only records its teardown.
public struct FakeScratch: ScratchDatabase {
    public let log: FakeLog
    public init(log: FakeLog) { self.log = log }
    public var kind: String { "embedded" }
    public var database: String { "drill_fake" }
    public var connection: ConnectionParameters { ConnectionParameters(["dbname": "drill_fake"]) }
    public var serverVersion: String { "15.0" }
    public var settings: [String: String] { [:] }
    public var keepInstructions: String { "psql drill_fake" }
    public func teardown() async -> TeardownResult {
        log.add("teardown")
        return TeardownResult(removed: true)
    }
}

/// Provisions a `FakeScratch`, taking `seconds` on the manual clock.
public struct FakeProvisioner: ScratchProvisioner {
    public let clock: ManualClock, seconds: Double, log: FakeLog
    public init(clock: ManualClock, seconds: Double, log: FakeLog) {
        self.clock = clock
        self.seconds = seconds
        self.log = log
    }
    public func provision(drill: DrillConfig, profile: RestoreProfile, jobs: Int) async throws -> any ScratchDatabase {
        clock.advance(by: .seconds(seconds))
        log.add("provision")
        return FakeScratch(log: log)
    }
}

/// A restorer that takes `seconds`, fails with `error`, or waits until cancelled (`hang`).
public struct FakeRestorer: Restorer {
    public enum Behaviour: Sendable { case succeed(seconds: Double), fail(DrillError), hang }
    public let clock: ManualClock, behaviour: Behaviour, log: FakeLog
    public init(clock: ManualClock, behaviour: Behaviour, log: FakeLog) {
        self.clock = clock
        self.behaviour = behaviour
        self.log = log
    }
    public func restore(_ request: RestoreRequest) async throws -> RestoreOutcome {
        log.add("restore")
        switch behaviour {
        case .succeed(let s): clock.advance(by: .seconds(s))
        case .fail(let e): throw e
        case .hang: try await Task.sleep(for: .seconds(3600))
        }
        return RestoreOutcome(tool: "fake_restore", toolVersion: "1", stderr: "")
    }
}

/// Answers every check with `value`, taking `seconds` per query.
public struct FakeConnector: DatabaseConnector, QueryExecutor {
    public let clock: ManualClock, value: String?, seconds: Double
    public init(clock: ManualClock, value: String?, seconds: Double) {
        self.clock = clock
        self.value = value
        self.seconds = seconds
    }
    public func connect(_ parameters: ConnectionParameters) async throws -> any QueryExecutor { self }
    public func query(_ sql: String, timeout: DrillDuration, countRowsUpTo: Int) async throws -> QueryResult {
        clock.advance(by: .seconds(seconds))
        return QueryResult(rows: [[value]])
    }
    public func close() async {}
}

extension DrillDependencies {
    /// Dependencies made of fakes, for tests of the drill's logic.
    public static func fake(store: FakeStore, restorer: FakeRestorer, provisioner: FakeProvisioner, connector: FakeConnector,
                            now: Date) -> DrillDependencies {
        DrillDependencies(stores: store, restorer: { _ in restorer }, provisioner: { _ in provisioner }, connector: connector,
                          now: { now }, stagingRoot: NSTemporaryDirectory(), cores: 2, hostName: "test-host",
                          drillVersion: "test", archiveTimeZone: TimeZone(identifier: "UTC")!,
                          logger: Logger(label: "fake", factory: { _ in SwiftLogNoOpLogHandler() }))
    }
}
