import Foundation
import Logging

/// The name of a kind of drill (`dump`, `basebackup`, `pgbackrest`, …). An open set: each method declares its own.
public struct MethodKind: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible, ExpressibleByStringLiteral {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { rawValue = value }
    public init(from decoder: any Decoder) throws { rawValue = try decoder.singleValueContainer().decode(String.self) }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }
    public var description: String { rawValue }
}

/// A method's own settings, parsed from its keys of the drill file by its `MethodParser`.
extension DrillConfig {
    /// The drill's settings as the method `kind` parses them; a configuration error when the drill is of another kind
    /// (a method handed a drill that is not its own).
    public func settings<S: MethodSettings>(as _: S.Type, kind: MethodKind) throws -> S {
        guard let s = settings as? S else { throw DrillError(.configuration, "drill \(name) is not a \(kind.rawValue) drill") }
        return s
    }
}

public protocol MethodSettings: Sendable {
    var kind: MethodKind { get }
    /// One line naming where the restore points come from, for `drill validate`, messages and the report's
    /// `backup.uri` before anything is located (e.g. `/srv/backups/shop`, `pgbackrest stanza prod, repo 1`). Never
    /// holds a secret.
    var source: String { get }
    /// Whether the method can restore into a database on a server the user gives (`target.kind: server`). Physical
    /// methods restore into a private cluster only.
    var supportsServerTarget: Bool { get }
    /// The same settings with relative local paths made absolute (relative to the config folder).
    func resolvingPaths(_ resolve: (String) -> String) -> any MethodSettings
    func isEqual(to other: any MethodSettings) -> Bool
}

extension MethodSettings where Self: Equatable {
    public func isEqual(to other: any MethodSettings) -> Bool { (other as? Self) == self }
}

/// Parses one method's keys of a drill file. Problems are recorded in the reader with the file and the key path; an
/// unknown key is an error.
public protocol MethodParser: Sendable {
    var kind: MethodKind { get }
    /// The top-level keys this method reads, besides the keys every drill has (`backup`, `wal`, `replica`, …).
    var keys: Set<String> { get }
    func parse(_ top: [String: JSONValue], reader: ConfigReader) -> (any MethodSettings)?
    /// Whether a drill file without `backup.kind` is this method's, by a key only it has (`replica`). A requirement,
    /// so `MethodParsers.kind(of:)` calls the method's own answer (default in MethodRegistry.swift: none).
    func claims(_ top: [String: JSONValue]) -> Bool
}

/// A restore point a method found, without fetching it: a dump file, a base backup folder, a backup in a tool's
/// catalogue.
public struct RestorePoint: Sendable {
    /// Where it is, for reports and messages (never with credentials).
    public var uri: String
    /// Its name: a file name, a backup label, a backup id.
    public var name: String
    /// The format or type the report shows (`custom`, `basebackup`, `pgbackrest full`, …).
    public var format: String
    public var sizeBytes: Int64?
    public var modifiedAt: Date?
    /// When the backup was made, from the backup itself (an archive header, a catalogue's stop time).
    public var createdAt: Date?
    /// The newest data that restoring it recovers, when that is known before restoring (a dump's creation time). Nil
    /// for point-in-time methods, whose recovery point is measured by replay.
    public var recoveryPoint: Date?
    /// Where `recoveryPoint` came from (`archive_header`, `file_mtime`, `object_last_modified`, …).
    public var recoveryPointSource: String?
    /// The method's own description of the point (opaque to the runner).
    public var payload: (any Sendable)?

    public init(uri: String, name: String, format: String, sizeBytes: Int64? = nil, modifiedAt: Date? = nil,
                createdAt: Date? = nil, recoveryPoint: Date? = nil, recoveryPointSource: String? = nil,
                payload: (any Sendable)? = nil) {
        self.uri = uri
        self.name = name
        self.format = format
        self.sizeBytes = sizeBytes
        self.modifiedAt = modifiedAt
        self.createdAt = createdAt
        self.recoveryPoint = recoveryPoint
        self.recoveryPointSource = recoveryPointSource
        self.payload = payload
    }
}

/// What `drill plan` shows for a drill: the restore point a run would use and the age of the newest data a restore
/// right now would recover.
public struct PlanPoint: Sendable {
    public var point: RestorePoint
    /// The newest recoverable data (for point-in-time methods: the newest archived WAL, not the backup).
    public var newestRecoverable: Date
    public var newestRecoverableSource: String
    /// An incremental backup's chain, full backup first (folder names): what a restore would combine.
    public var incrementalChain: [String]?

    public init(point: RestorePoint, newestRecoverable: Date, newestRecoverableSource: String, incrementalChain: [String]? = nil) {
        self.point = point
        self.newestRecoverable = newestRecoverable
        self.newestRecoverableSource = newestRecoverableSource
        self.incrementalChain = incrementalChain
    }
}

/// What a method's restore produced: the database the checks run in (or the servers they run on), the recovery point
/// it reached, and, for methods that measure them themselves, the RPO and RTO.
public struct Restored: Sendable {
    /// Already adopted by the run's scratch scope (`MethodRun.adopt`): the runner tears it down. Nil when the checks
    /// run on `checkTargets` instead.
    public var database: (any ScratchDatabase)?
    /// Servers the checks run on when there is no scratch database (a replica drill's standbys): borrowed, read-only,
    /// never adopted, never torn down. Each check runs on each target; report entries carry the target's label.
    public var checkTargets: [CheckTarget]
    /// The newest data the restored database holds (the last replayed commit, a dump's creation time); nil: unknown.
    public var recoveryPoint: Date?
    public var recoveryPointSource: String?
    /// What the recovery point is measured against when not the drill's start (a point-in-time target).
    public var rpoReference: Date?
    /// When the method read what it recovered from (a physical method: when it listed the WAL archive). Production
    /// keeps writing while a drill runs, so WAL archived after the drill's start can be replayed: a recovery point up
    /// to this time is real (the RPO is then 0 against the drill's start); only one after it is a clock problem.
    /// Nil: the drill's start.
    public var sourceReadAt: Date?
    /// An RPO the method measured itself (a replica's receive latency): used instead of the drill's start minus the
    /// recovery point. `notMeasured` makes the drill non-compliant with the reason.
    public var rpo: MethodMeasure?
    /// An RTO the method measured itself (a replica's detection + promotion + replay): used instead of the runner's
    /// clock. `notMeasured` leaves the RTO target unverified, which does not pass.
    public var rto: MethodMeasure?
    /// Conditions that make the drill non-compliant although it ran (a paused standby, a lost slot); each becomes a
    /// finding.
    public var violations: [String]

    public init(database: any ScratchDatabase, recoveryPoint: Date?, recoveryPointSource: String?, rpoReference: Date? = nil,
                sourceReadAt: Date? = nil) {
        self.database = database
        self.checkTargets = []
        self.recoveryPoint = recoveryPoint
        self.recoveryPointSource = recoveryPointSource
        self.rpoReference = rpoReference
        self.sourceReadAt = sourceReadAt
        self.violations = []
    }

    /// A method that restores nothing: the checks run on `checkTargets`, the method measured RPO and RTO.
    public init(checkTargets: [CheckTarget], recoveryPointSource: String?, rpo: MethodMeasure, rto: MethodMeasure,
                violations: [String] = []) {
        self.database = nil
        self.checkTargets = checkTargets
        self.recoveryPointSource = recoveryPointSource
        self.rpo = rpo
        self.rto = rto
        self.violations = violations
    }
}

/// A server the checks run on that drill did not create (never a `ScratchDatabase`, so it cannot be torn down).
public struct CheckTarget: Sendable, Equatable {
    /// Names the target in the report's check entries (`stby1: orders visible`).
    public var label: String
    public var connection: ConnectionParameters
    public var serverVersion: String?

    public init(label: String, connection: ConnectionParameters, serverVersion: String? = nil) {
        self.label = label
        self.connection = connection
        self.serverVersion = serverVersion
    }
}

/// A figure a method measured, or why it could not.
public enum MethodMeasure: Sendable, Equatable {
    case measured(seconds: Double)
    case notMeasured(reason: String)

    // Not inlined: inlined into DrillState.finish, the switch on the stored optional crashes the Swift 6.3 optimizer in
    // release builds ("Found ownership error", CopyPropagation).
    @inline(never)
    public var seconds: Double? {
        if case .measured(let s) = self { return s }
        return nil
    }

    /// Why it was not measured; nil when it was.
    @inline(never)
    public var notMeasuredReason: String? {
        if case .notMeasured(let why) = self { return why }
        return nil
    }
}

/// Everything a method may use to find restore points: stores, time, logging. No drill is running.
public struct MethodContext: Sendable {
    public var stores: any BackupStoreFactory
    public var now: @Sendable () -> Date
    public var archiveTimeZone: TimeZone
    public var logger: Logger

    public init(stores: any BackupStoreFactory, now: @escaping @Sendable () -> Date, archiveTimeZone: TimeZone, logger: Logger) {
        self.stores = stores
        self.now = now
        self.archiveTimeZone = archiveTimeZone
        self.logger = logger
    }
}

/// A kind of drill: how it finds its newest restore point, which phases it runs, how it restores into a scratch
/// cluster or database, and how it measures the recovery point. The runner sequences the drill around it: it opens
/// the run, owns timing, the scratch lifetime and the report, runs the checks on the database the method returns, and
/// tears everything down on every path.
///
/// One folder per method: `Sources/DrillCore/Methods/<method>/` (settings, parser, the method's logic and evidence)
/// and `Sources/DrillLive/Methods/<method>/` (the tools it runs), plus one line in each registry
/// (`MethodParsers.all`, `LiveDependencies`). See docs/methods.md.
public protocol DrillMethod: Sendable {
    /// The newest restore point (fetches nothing but metadata).
    func locate(_ drill: DrillConfig, _ context: MethodContext) async throws -> RestorePoint
    /// What `drill plan` shows: by default the newest restore point and its recovery point.
    func plan(_ drill: DrillConfig, _ context: MethodContext) async throws -> PlanPoint
    /// Every restore point the drill could restore, in any order (for retention coverage: how far back the
    /// backups go and where a backup night is missing). By default only the newest.
    func restorePoints(_ drill: DrillConfig, _ context: MethodContext) async throws -> [RestorePoint]
    /// Whether the drill has restore points a tier's `retention` and `backup_interval` promises are about; a method
    /// that restores no backups (`replica`) says no, and no coverage is checked. By default yes.
    var hasRestorePoints: Bool { get }
    /// Finds the restore point and restores it, running its phases through `run` (which times them) and adopting
    /// every scratch database or cluster it creates into `run` as soon as it exists.
    func restore(_ drill: DrillConfig, _ run: MethodRun) async throws -> Restored
    /// The PostgreSQL the newest restore point needs, for `drill plan` (nil: unknown, or the method does not choose).
    func versionNeed(_ drill: DrillConfig, _ context: MethodContext) async throws -> VersionNeed?
}

extension DrillMethod {
    public var hasRestorePoints: Bool { true }

    public func versionNeed(_ drill: DrillConfig, _ context: MethodContext) async throws -> VersionNeed? { nil }

    public func restorePoints(_ drill: DrillConfig, _ context: MethodContext) async throws -> [RestorePoint] {
        [try await locate(drill, context)]
    }

    public func plan(_ drill: DrillConfig, _ context: MethodContext) async throws -> PlanPoint {
        let point = try await locate(drill, context)
        guard let rp = point.recoveryPoint ?? point.createdAt ?? point.modifiedAt else {
            throw DrillError(.backupUnreadable, "the recovery point of \(point.uri) is unknown")
        }
        return PlanPoint(point: point, newestRecoverable: rp, newestRecoverableSource: point.recoveryPointSource ?? "backup")
    }
}

/// A typed block of evidence a method adds to the report (`wal`, `pgbackrest`, `barman`, …): its key in the report.
public protocol MethodEvidence: Sendable, Codable, Equatable {
    static var reportKey: WritableKeyPath<DrillReport, Self?> { get }
}
