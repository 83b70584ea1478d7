import Foundation

/// One drill: a file `drills/<name>.json`. The keys every drill has are here; the keys of its kind of drill (its
/// method: `backup`, `wal`, …) are parsed by that method into `settings`.
public struct DrillConfig: Sendable, Equatable {
    public var name: String
    public var file: String
    public var tier: String
    /// The method's own settings (`DumpSettings`, `BaseBackupSettings`, …).
    public var settings: any MethodSettings
    public var target: TargetConfig
    public var restore: RestoreConfig
    public var checks: [CheckConfig]
    /// The database checks run in after a physical restore (default `postgres`).
    public var database: String?
    public var recovery: RecoveryConfig?
    public var alerts: AlertsConfig?
    /// Great Expectations suite files the drill validates (`expectations`); `ConfigFolder.load` turns them into checks.
    public var suites: [SuiteReference] = []

    public init(
        name: String, file: String = "", tier: String, settings: any MethodSettings, target: TargetConfig = .embedded,
        restore: RestoreConfig = RestoreConfig(), checks: [CheckConfig] = [], database: String? = nil,
        recovery: RecoveryConfig? = nil, alerts: AlertsConfig? = nil
    ) {
        self.name = name
        self.file = file
        self.tier = tier
        self.settings = settings
        self.target = target
        self.restore = restore
        self.checks = checks
        self.database = database
        self.recovery = recovery
        self.alerts = alerts
    }

    /// A drill on backup files: a `basebackup` drill when the format says so or a WAL archive is given, else a `dump`.
    public init(
        name: String, file: String = "", tier: String, backup: BackupConfig, target: TargetConfig = .embedded,
        restore: RestoreConfig = RestoreConfig(), checks: [CheckConfig] = [], database: String? = nil,
        wal: WALConfig? = nil, recovery: RecoveryConfig? = nil, alerts: AlertsConfig? = nil
    ) {
        let settings: any MethodSettings = if backup.format == .basebackup || wal != nil {
            BaseBackupSettings(backup: backup, wal: wal)
        } else {
            DumpSettings(backup: backup)
        }
        self.init(name: name, file: file, tier: tier, settings: settings, target: target, restore: restore, checks: checks,
                  database: database, recovery: recovery, alerts: alerts)
    }

    /// The drill's kind.
    public var method: MethodKind { settings.kind }

    /// The backup files of a `dump` or `basebackup` drill; for other methods, only `location` is set (to the method's
    /// source line).
    public var backup: BackupConfig {
        (settings as? any FileBackupSettings)?.backup ?? BackupConfig(location: settings.source)
    }

    /// The WAL archive of a `basebackup` drill.
    public var wal: WALConfig? { (settings as? BaseBackupSettings)?.wal }

    public static func == (a: DrillConfig, b: DrillConfig) -> Bool {
        a.name == b.name && a.file == b.file && a.tier == b.tier && a.settings.isEqual(to: b.settings) && a.target == b.target
            && a.restore == b.restore && a.checks == b.checks && a.database == b.database && a.recovery == b.recovery
            && a.alerts == b.alerts && a.suites == b.suites
    }
}

/// Settings of a method that restores backup files found under a location (`dump`, `basebackup`).
public protocol FileBackupSettings: MethodSettings {
    var backup: BackupConfig { get }
}

public struct BackupConfig: Sendable, Equatable {
    /// A folder path, `file://`, `s3://bucket/prefix/`, or `http(s)://…/file`.
    public var location: String
    /// A glob on the backup's file name (the key's last part on S3); nil means every file.
    public var pattern: String?
    public var format: BackupFormatChoice
    /// S3-compatible endpoint (path-style addressing).
    public var endpoint: String?
    public var region: String?
    public var verify: VerifyMode
    /// A backup modified less than this before the drill started may still be being written: it is skipped.
    public var settle: DrillDuration
    /// Where the key of an encrypted backup comes from (`backup.decrypt`); nil when none is configured.
    public var decrypt: DecryptConfig?
    /// How a remote backup file is downloaded: ranged GETs over several connections (`backup.connections`,
    /// `backup.chunk_mib`).
    public var download: DownloadOptions = DownloadOptions()
    public static let defaultSettle = DrillDuration(seconds: 60)

    public init(location: String, pattern: String? = nil, format: BackupFormatChoice = .auto, endpoint: String? = nil,
                region: String? = nil, verify: VerifyMode = .ifPresent, settle: DrillDuration = BackupConfig.defaultSettle) {
        self.settle = settle
        self.location = location
        self.pattern = pattern
        self.format = format
        self.endpoint = endpoint
        self.region = region
        self.verify = verify
    }
}

public enum BackupFormatChoice: String, Sendable, CaseIterable {
    case auto, custom, directory, tar, plain
    case plainGzip = "plain.gz"
    case basebackup
}

/// Whether a `<backup>.sha256` sidecar is checked.
public enum VerifyMode: String, Sendable, CaseIterable {
    case ifPresent = "if_present"
    case required
    case off
}

public enum TargetConfig: Sendable, Equatable {
    /// A private cluster the tool starts itself (the default).
    case embedded
    /// A scratch database created on a given server; `url` is a libpq connection URI or key=value string.
    case server(url: String)

    public var kind: String {
        switch self {
        case .embedded: "embedded"
        case .server: "server"
        }
    }
}

public enum RestoreProfile: String, Sendable, CaseIterable, Codable {
    /// fsync on; restore-friendly memory and checkpoint settings.
    case durable
    /// fsync, full_page_writes and synchronous_commit off: faster, but the measured RTO is optimistic.
    case fast
}

public struct RestoreConfig: Sendable, Equatable {
    /// Parallel jobs for pg_restore; nil means the number of cores.
    public var jobs: Int?
    public var profile: RestoreProfile
    /// The drill's time limit (restore and checks); nil means twice the tier's RTO target.
    public var timeout: DrillDuration?
    /// `restore.as`: whom the restored SQL runs as (the scratch database's owner unless told otherwise).
    public var restoreAs: RestoreAs
    /// `restore.postgres`: the bin folder of the PostgreSQL to restore with (nil: the one the backup needs, among those
    /// installed).
    public var postgres: String?
    public init(jobs: Int? = nil, profile: RestoreProfile = .durable, timeout: DrillDuration? = nil, restoreAs: RestoreAs = .owner,
                postgres: String? = nil) {
        self.postgres = postgres
        self.jobs = jobs
        self.profile = profile
        self.timeout = timeout
        self.restoreAs = restoreAs
    }

    /// The time limit of a drill of `tier`: `timeout`, else twice the tier's RTO target.
    public func timeLimit(for tier: TierConfig) -> DrillDuration {
        timeout ?? DrillDuration(seconds: 2 * tier.rto.seconds)
    }
}

public struct WALConfig: Sendable, Equatable {
    public var location: String
    public var endpoint: String?
    public var region: String?
    /// WAL files fetched at once while replay runs (`wal.connections`, default 4).
    public var connections: Int
    /// At most this many bytes of fetched WAL wait ahead of replay on disk (`wal.window_mib`, default 1 GiB).
    public var windowBytes: Int64
    public static let defaultConnections = 4
    public static let defaultWindowBytes: Int64 = 1 << 30
    public init(location: String, endpoint: String? = nil, region: String? = nil,
                connections: Int = WALConfig.defaultConnections, windowBytes: Int64 = WALConfig.defaultWindowBytes) {
        self.location = location
        self.endpoint = endpoint
        self.region = region
        self.connections = connections
        self.windowBytes = windowBytes
    }

    /// How its WAL is delivered to replay.
    public var tuning: WALTuning { WALTuning(connections: connections, windowBytes: windowBytes) }
}

public struct RecoveryConfig: Sendable, Equatable {
    /// `latest`, an RFC 3339 timestamp, or `random`.
    public var target: String
    public init(target: String = "latest") { self.target = target }
}
