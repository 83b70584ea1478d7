import Foundation

/// How a drill ended.
public enum DrillStatus: String, Sendable, Codable, CaseIterable {
    /// Restored, every check passed, measured RTO and RPO within target.
    case compliant
    /// Restored, but a target or a check was missed.
    case nonCompliant = "non_compliant"
    /// Could not restore: backup missing, unreadable, corrupt, restore error, no usable PostgreSQL.
    case failed
    /// Interrupted (SIGINT, SIGTERM).
    case aborted
}

/// The JSON report of one drill run, as written to the archive. Documented in `docs/report-schema.md`.
public struct DrillReport: Sendable, Codable, Equatable {
    public static let currentSchemaVersion = 1

    public var schemaVersion: Int = DrillReport.currentSchemaVersion
    public var drill: String
    public var tier: String
    public var status: DrillStatus
    public var startedAt: Date
    public var finishedAt: Date
    public var target: Targets
    public var measured: Measured
    public var backup: Backup
    public var restore: Restore
    public var phases: [Phase]
    public var checks: [Check]
    public var findings: [String]
    public var scratch: Scratch
    public var environment: Environment
    /// Digest of the previous report in the same archive (hash chain); set by the archive when it writes the report.
    public var previousSHA256: String?
    /// The kind of drill (`dump`, `basebackup`, `pgbackrest`, …); nil in reports written before methods existed.
    public var method: MethodKind?
    /// `basebackup` drills: WAL fetched, replayed, and the archive's health.
    public var wal: WAL?
    /// The restore points present against the tier's `retention` and `backup_interval` promises; absent when the
    /// tier makes none.
    public var coverage: RetentionCoverage?
    /// `barman` and `barman-cloud` drills: the backup restored, as the Barman catalogue describes it.
    public var barman: BarmanEvidence?
    /// `pgbackrest` drills: the backup restored, `pgbackrest verify`'s result, the WAL fetched and replayed.
    public var pgbackrest: PgBackRestEvidence?
    /// `replica` drills: topology, probe, heartbeat, slots, subscriptions and the clone's RTO parts.
    public var replica: ReplicaEvidence?
    /// The `DrillError` code that stopped a failed drill (`configuration` maps to exit code 2).
    public var failureCode: String?
    /// The PostgreSQL the drill restored with, the backup's version and the versions found; absent in reports
    /// written before drill chose versions, and for methods that do not choose one.
    public var postgres: PostgresChoice?

    // Explicit keys: the snake_case strategies turn `previousSHA256` into `previous_sha256` when encoding but read it
    // back as `previousSha256`, so without this the field silently decodes as nil.
    enum CodingKeys: String, CodingKey {
        case schemaVersion, drill, tier, status, startedAt, finishedAt, target, measured, backup, restore, phases, checks
        case findings, scratch, environment, method, wal, barman, failureCode, coverage
        case pgbackrest, replica, postgres
        case previousSHA256 = "previousSha256"
    }

    public struct Targets: Sendable, Codable, Equatable {
        public var rtoSeconds: Int64
        public var rpoSeconds: Int64

        public init(rtoSeconds: Int64, rpoSeconds: Int64) {
            self.rtoSeconds = rtoSeconds
            self.rpoSeconds = rpoSeconds
        }
    }

    public struct Measured: Sendable, Codable, Equatable {
        /// Null when the database never became usable.
        public var rtoSeconds: Double?
        public var rpoSeconds: Double?
        public var recoveryPoint: Date?
        /// `archive_header`, `file_mtime`, `object_last_modified` or `wal_replay`.
        public var recoveryPointSource: String?

        public init(rtoSeconds: Double? = nil, rpoSeconds: Double? = nil, recoveryPoint: Date? = nil, recoveryPointSource: String? = nil) {
            self.rtoSeconds = rtoSeconds
            self.rpoSeconds = rpoSeconds
            self.recoveryPoint = recoveryPoint
            self.recoveryPointSource = recoveryPointSource
        }
    }

    public struct Backup: Sendable, Codable, Equatable {
        public var uri: String?
        public var name: String?
        public var format: String?
        public var sizeBytes: Int64?
        public var sha256: String?
        /// `match`, `absent`, `off` or `mismatch`.
        public var sidecar: String?
        /// Creation time from the archive header, when the format has one.
        public var createdAt: Date?
        public var modifiedAt: Date?
        public var sourceDatabase: String?
        public var sourceServerVersion: String?
        public var pgDumpVersion: String?
        /// The layers removed before the restore, outermost first (`age`, `zstd`, …): nil when the backup had none
        /// besides a plain dump's own gzip.
        public var encoding: [String]?
        /// The format found inside those layers (`custom`, `plain`, …), when there were layers.
        public var contentFormat: String?

        public init(uri: String? = nil, name: String? = nil, format: String? = nil, sizeBytes: Int64? = nil, sha256: String? = nil,
                    sidecar: String? = nil, createdAt: Date? = nil, modifiedAt: Date? = nil, sourceDatabase: String? = nil,
                    sourceServerVersion: String? = nil, pgDumpVersion: String? = nil) {
            self.uri = uri
            self.name = name
            self.format = format
            self.sizeBytes = sizeBytes
            self.sha256 = sha256
            self.sidecar = sidecar
            self.createdAt = createdAt
            self.modifiedAt = modifiedAt
            self.sourceDatabase = sourceDatabase
            self.sourceServerVersion = sourceServerVersion
            self.pgDumpVersion = pgDumpVersion
        }
    }

    public struct Restore: Sendable, Codable, Equatable {
        public var jobs: Int
        public var profile: RestoreProfile
        /// `file` (restored from local disk) or `stream` (download and restore overlapped).
        public var mode: String?
        public var tool: String?
        public var toolVersion: String?
        /// How long the tool itself ran; the rest of the restore phase is the runner's.
        public var toolSeconds: Double?
        public var stderr: String?
        public var settings: [String: String]?
        /// A `pg_dumpall` restore: every database restored, with its size; absent otherwise.
        public var databases: [RestoredDatabase]?

        public init(jobs: Int, profile: RestoreProfile, mode: String? = nil, tool: String? = nil, toolVersion: String? = nil,
                    stderr: String? = nil, settings: [String: String]? = nil, toolSeconds: Double? = nil) {
            self.toolSeconds = toolSeconds
            self.jobs = jobs
            self.profile = profile
            self.mode = mode
            self.tool = tool
            self.toolVersion = toolVersion
            self.stderr = stderr
            self.settings = settings
        }
    }

    public struct RestoredDatabase: Sendable, Codable, Equatable {
        public var name: String
        public var sizeBytes: Int64?
        public init(name: String, sizeBytes: Int64?) {
            self.name = name
            self.sizeBytes = sizeBytes
        }
    }

    public struct Phase: Sendable, Codable, Equatable {
        public var name: String
        /// Seconds since the drill's start when the phase began.
        public var startOffsetSeconds: Double
        public var seconds: Double
        public var ok: Bool
        /// Bytes the phase moved (extracted, fetched), when it measures them.
        public var bytes: Int64?
        /// Its throughput: `bytes` over `seconds`, in MiB/s.
        public var mibPerSecond: Double?

        public init(name: String, startOffsetSeconds: Double, seconds: Double, ok: Bool, bytes: Int64? = nil) {
            self.name = name
            self.startOffsetSeconds = startOffsetSeconds
            self.seconds = seconds
            self.ok = ok
            self.bytes = bytes
            if let bytes, seconds > 0 { mibPerSecond = (Double(bytes) / 1_048_576 / seconds * 10).rounded() / 10 }
        }
    }

    public struct Check: Sendable, Codable, Equatable {
        public var name: String
        public var sql: String
        public var expected: String
        /// The first value, at most 1 KiB (`CheckOutput.storedBytes`); see `observedTruncated`.
        public var observed: String?
        /// Rows read: every row, unless `rowsTruncated` (then a lower bound: reading stopped there).
        public var rows: Int?
        public var passed: Bool
        public var seconds: Double
        public var error: String?
        /// The first value's full length in bytes, and its SHA-256 (hex); nil for NULL or no rows.
        public var observedBytes: Int?
        public var observedSHA256: String?
        /// True when `observed` is only the head of a longer value; absent otherwise.
        public var observedTruncated: Bool?
        /// True when the result had more rows than drill read (`rows` is a lower bound); absent otherwise.
        public var rowsTruncated: Bool?
        /// For an expectation: its Great Expectations type (`expect_column_values_to_not_be_null`) and its result
        /// fields as Great Expectations reports them (absent for SQL checks).
        public var expectation: String?
        public var elementCount: Int?
        public var unexpectedCount: Int?
        public var unexpectedPercent: Double?
        public var missingCount: Int?
        public var observedValue: JSONValue?
        /// At most 20 unexpected values, each cut at 200 characters (then ending with `…`); NULL as null.
        public var partialUnexpectedList: [JSONValue]?
        /// True for a suite's expectation of a type drill does not support, skipped on request (`"unsupported": "skip"`).
        public var skipped: Bool?

        // `observedSHA256` must decode from `observed_sha256` (see `DrillReport.CodingKeys`).
        enum CodingKeys: String, CodingKey {
            case name, sql, expected, observed, rows, passed, seconds, error, observedBytes, observedTruncated, rowsTruncated
            case expectation, elementCount, unexpectedCount, unexpectedPercent, missingCount, observedValue
            case partialUnexpectedList, skipped
            case observedSHA256 = "observedSha256"
        }

        public init(name: String, sql: String, expected: String, observed: String? = nil, rows: Int? = nil, passed: Bool,
                    seconds: Double, error: String? = nil) {
            self.name = name
            self.sql = sql
            self.expected = expected
            self.observed = observed
            self.rows = rows
            self.passed = passed
            self.seconds = seconds
            self.error = error
        }
    }

    public struct Scratch: Sendable, Codable, Equatable {
        /// `detail` of a drill that ended before anything was provisioned (`removed` is then true: nothing is left).
        public static let noneCreated = "none was created"
        public var kind: String
        public var database: String?
        public var removed: Bool
        public var kept: Bool
        public var teardownSeconds: Double?
        public var detail: String?

        public init(kind: String, database: String? = nil, removed: Bool, kept: Bool, teardownSeconds: Double? = nil,
                    detail: String? = nil) {
            self.kind = kind
            self.database = database
            self.removed = removed
            self.kept = kept
            self.teardownSeconds = teardownSeconds
            self.detail = detail
        }
    }

    public struct Environment: Sendable, Codable, Equatable {
        public var drillVersion: String
        public var host: String
        public var serverVersion: String?
        public var configFile: String?

        public init(drillVersion: String, host: String, serverVersion: String? = nil, configFile: String? = nil) {
            self.drillVersion = drillVersion
            self.host = host
            self.serverVersion = serverVersion
            self.configFile = configFile
        }
    }
}

extension DrillReport {
    /// The JSON encoder every report is written with: snake_case keys, sorted, ISO 8601 dates with milliseconds.
    public static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.keyEncodingStrategy = .convertToSnakeCase
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        e.dateEncodingStrategy = .custom { date, enc in
            var c = enc.singleValueContainer()
            try c.encode(RFC3339.format(date, fractional: true))
        }
        return e
    }

    public static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.keyDecodingStrategy = .convertFromSnakeCase
        d.dateDecodingStrategy = .custom { dec in
            let c = try dec.singleValueContainer()
            let s = try c.decode(String.self)
            guard let date = RFC3339.parse(s) else {
                throw DecodingError.dataCorruptedError(in: c, debugDescription: "not an RFC 3339 timestamp: \(s)")
            }
            return date
        }
        return d
    }

    public func jsonData() throws -> Data { try Self.encoder().encode(self) }

    /// Whether the run restored the backup (compliant or not).
    public var restored: Bool { status == .compliant || status == .nonCompliant }
}
