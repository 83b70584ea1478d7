import Foundation

/// libpq connection parameters (keywords such as `host`, `port`, `user`, `dbname`, `password`).
/// The password is kept out of every rendering: use `display` for humans and `environment` for child processes.
public struct ConnectionParameters: Sendable, Equatable {
    public var keywords: [String: String]
    /// When true, client tools ignore the caller's `PG*` variables (the embedded cluster is fully described here).
    /// When false (a server the user gave), libpq conventions apply: `PG*` variables and `.pgpass` fill the gaps.
    public var isolated: Bool

    public init(_ keywords: [String: String], isolated: Bool = false) {
        self.keywords = keywords
        self.isolated = isolated
    }

    public var database: String? { keywords["dbname"] }

    /// A copy that connects to another database on the same server.
    public func with(database: String) -> ConnectionParameters {
        var k = keywords
        k["dbname"] = database
        return ConnectionParameters(k, isolated: isolated)
    }

    /// `key=value` form for libpq, values quoted. Contains the password: never print it.
    public var conninfo: String {
        keywords.keys.sorted().map { "\($0)=\(Self.quote(keywords[$0]!))" }.joined(separator: " ")
    }

    /// The same without secrets, for messages and reports.
    public var display: String {
        keywords.keys.sorted().filter { !Self.secretKeywords.contains($0) }
            .map { "\($0)=\(Self.quote(keywords[$0]!))" }.joined(separator: " ")
    }

    public static let secretKeywords: Set<String> = ["password", "sslpassword"]

    /// Environment variables that make libpq clients (`pg_restore`, `psql`) connect with these parameters,
    /// so nothing secret goes on a command line.
    public var environment: [String: String] {
        var env: [String: String] = [:]
        for (k, v) in keywords {
            if let name = Self.environmentNames[k] { env[name] = v }
        }
        return env
    }

    static let environmentNames: [String: String] = [
        "host": "PGHOST", "hostaddr": "PGHOSTADDR", "port": "PGPORT", "dbname": "PGDATABASE", "user": "PGUSER",
        "password": "PGPASSWORD", "passfile": "PGPASSFILE", "channel_binding": "PGCHANNELBINDING",
        "service": "PGSERVICE", "options": "PGOPTIONS", "application_name": "PGAPPNAME", "sslmode": "PGSSLMODE",
        "sslcert": "PGSSLCERT", "sslkey": "PGSSLKEY", "sslrootcert": "PGSSLROOTCERT", "sslcrl": "PGSSLCRL",
        "sslcompression": "PGSSLCOMPRESSION", "sslsni": "PGSSLSNI", "requirepeer": "PGREQUIREPEER",
        "ssl_min_protocol_version": "PGSSLMINPROTOCOLVERSION", "ssl_max_protocol_version": "PGSSLMAXPROTOCOLVERSION",
        "gssencmode": "PGGSSENCMODE", "krbsrvname": "PGKRBSRVNAME", "gsslib": "PGGSSLIB",
        "connect_timeout": "PGCONNECT_TIMEOUT", "client_encoding": "PGCLIENTENCODING",
        "target_session_attrs": "PGTARGETSESSIONATTRS", "load_balance_hosts": "PGLOADBALANCEHOSTS",
        "sslcrldir": "PGSSLCRLDIR", "requiressl": "PGREQUIRESSL",
    ]

    static func quote(_ v: String) -> String {
        if !v.isEmpty, v.allSatisfy({ !$0.isWhitespace && $0 != "'" && $0 != "\\" }) { return v }
        return "'" + v.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
    }
}

/// Where a restore reads the backup from.
public enum RestoreInput: Sendable {
    /// A local file or folder.
    case path(String)
    /// A producer that writes the backup's bytes into the restore tool's standard input as they arrive.
    case stream(@Sendable (FileHandle) async throws -> StreamReceipt)
}

public struct RestoreRequest: Sendable {
    public var input: RestoreInput
    public var format: BackupFormat
    public var jobs: Int
    public var profile: RestoreProfile
    public var connection: ConnectionParameters
    /// The PostgreSQL whose client tools restore (chosen for the backup's version); nil: the restorer's default.
    public var postgres: PostgresInstallation?
    /// The scratch cluster's superuser (`ScratchDatabase.adminConnection`), for a `pg_dumpall` restore's roles and
    /// databases; nil on a server target.
    public var admin: ConnectionParameters?
    /// Progress of a restore from a local file or folder: bytes of it the tool has consumed, of its size (a streamed
    /// input reports its own progress as it is read).
    public var progress: TransferProgress?

    public init(input: RestoreInput, format: BackupFormat, jobs: Int, profile: RestoreProfile, connection: ConnectionParameters,
                postgres: PostgresInstallation? = nil, admin: ConnectionParameters? = nil, progress: TransferProgress? = nil) {
        self.progress = progress
        self.postgres = postgres
        self.admin = admin
        self.input = input
        self.format = format
        self.jobs = jobs
        self.profile = profile
        self.connection = connection
    }
}

public struct RestoreOutcome: Sendable {
    /// `pg_restore (PostgreSQL) 15.18` and the like.
    public var tool: String
    public var toolVersion: String
    /// The tool's standard error, trimmed.
    public var stderr: String
    /// Set when the input was streamed.
    public var receipt: StreamReceipt?
    /// Things worth recording that did not stop the restore.
    public var findings: [String]
    /// How long the tool ran (start to exit), to tell the tool's time from the runner's within the restore phase.
    public var toolSeconds: Double?
    /// A `pg_dumpall` restore: each database restored and its size.
    public var databases: [DrillReport.RestoredDatabase]?

    public init(tool: String, toolVersion: String, stderr: String, receipt: StreamReceipt? = nil, findings: [String] = [],
                toolSeconds: Double? = nil) {
        self.toolSeconds = toolSeconds
        self.tool = tool
        self.toolVersion = toolVersion
        self.stderr = stderr
        self.receipt = receipt
        self.findings = findings
    }
}

/// Restores one kind of backup into a scratch database.
public protocol Restorer: Sendable {
    func restore(_ request: RestoreRequest) async throws -> RestoreOutcome
}
