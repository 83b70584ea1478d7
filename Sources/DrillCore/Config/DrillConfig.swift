import Foundation

/// One drill: a file `drills/<name>.json`.
public struct DrillConfig: Sendable, Equatable {
    public var name: String
    public var file: String
    public var tier: String
    public var backup: BackupConfig
    public var target: TargetConfig
    public var restore: RestoreConfig
    public var checks: [CheckConfig]
    /// The database checks run in after a physical restore (default `postgres`).
    public var database: String?
    public var wal: WALConfig?
    public var recovery: RecoveryConfig?
    public var alerts: AlertsConfig?

    public init(
        name: String, file: String = "", tier: String, backup: BackupConfig, target: TargetConfig = .embedded,
        restore: RestoreConfig = RestoreConfig(), checks: [CheckConfig] = [], database: String? = nil,
        wal: WALConfig? = nil, recovery: RecoveryConfig? = nil, alerts: AlertsConfig? = nil
    ) {
        self.name = name
        self.file = file
        self.tier = tier
        self.backup = backup
        self.target = target
        self.restore = restore
        self.checks = checks
        self.database = database
        self.wal = wal
        self.recovery = recovery
        self.alerts = alerts
    }
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

    public init(location: String, pattern: String? = nil, format: BackupFormatChoice = .auto, endpoint: String? = nil,
                region: String? = nil, verify: VerifyMode = .ifPresent) {
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
    public init(jobs: Int? = nil, profile: RestoreProfile = .durable) {
        self.jobs = jobs
        self.profile = profile
    }
}

public struct WALConfig: Sendable, Equatable {
    public var location: String
    public var endpoint: String?
    public var region: String?
    public init(location: String, endpoint: String? = nil, region: String? = nil) {
        self.location = location
        self.endpoint = endpoint
        self.region = region
    }
}

public struct RecoveryConfig: Sendable, Equatable {
    /// `latest`, an RFC 3339 timestamp, or `random`.
    public var target: String
    public init(target: String = "latest") { self.target = target }
}
