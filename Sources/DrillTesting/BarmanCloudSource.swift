import DrillCore
import DrillLive
import Foundation

/// A "production" cluster backed up with barman-cloud into moto's S3 (signatures checked): its `archive_command` is
/// `barman-cloud-wal-archive`, and one `barman-cloud-backup` of it is taken at start. Started once per test process,
/// stopped at exit (the cluster and its folder; moto is the shared `MotoServer`).
public actor BarmanCloudSource {
    public static let shared = BarmanCloudSource()
    public static let server = "prod"
    public static let database = "ledgerdb"

    public struct Handle: Sendable {
        public var production: BarmanProduction
        public var moto: MotoServer.Handle
        public var bucket: String
        /// `s3://bucket/barman`: the drill's `backup.location`.
        public var location: String
        /// The backup id `barman-cloud-backup` took at start.
        public var firstBackup: String
    }

    private var starting: Task<Handle, any Error>?

    public func start() async throws -> Handle {
        if starting == nil { starting = Task { try await Self.boot() } }
        return try await starting!.value
    }

    private static func boot() async throws -> Handle {
        for tool in ["barman-cloud-backup", "barman-cloud-wal-archive", "barman-cloud-backup-list"] {
            guard FileManager.default.isExecutableFile(atPath: "/usr/bin/\(tool)") else {
                throw FixtureError("\(tool) is not installed: run scripts/install-deps.sh (barman-cli-cloud)")
            }
        }
        let moto = try await MotoServer.shared.start()
        let bucket = await MotoServer.shared.newBucketName("barmancloud")
        try await S3Admin.run(endpoint: moto.endpoint, credentials: moto, ops: [["op": "bucket", "bucket": bucket]])
        let location = "s3://\(bucket)/barman"

        // Production's own credentials: a shared-credentials file only the server's user reads, named by the
        // archive_command (which never holds the secret itself).
        let folder = TempFolder("bcsrc")
        let home = folder.sub("home")
        let credentials = (home as NSString).appendingPathComponent("credentials")
        try "[prod]\naws_access_key_id = \(moto.accessKeyID)\naws_secret_access_key = \(moto.secretAccessKey)\n"
            .write(toFile: credentials, atomically: true, encoding: .utf8)
        chmod(credentials, 0o600)
        if let runAs = try RunAs.productionAccount() {
            try runAs.chown(home)
            try runAs.chown(credentials)
        }
        let toolEnv = "HOME=\(home) AWS_SHARED_CREDENTIALS_FILE=\(credentials) AWS_DEFAULT_REGION=us-east-1"
        let archive = "\(toolEnv) barman-cloud-wal-archive -P prod --endpoint-url \(moto.endpoint) \(location) \(server) %p"
        let production = try await BarmanProduction.boot(name: "bcsrc", folder: folder, extra: [
            ("archive_mode", "on"), ("archive_command", archive),
        ])
        try await production.createLedger(database)
        try await production.insert(batch: "before-backup", rows: 200, into: database)

        let c = production.cluster
        let env = ["HOME": home, "AWS_SHARED_CREDENTIALS_FILE": credentials, "AWS_DEFAULT_REGION": "us-east-1"]
        let r = try await production.runAsServerUser("/usr/bin/barman-cloud-backup", [
            "-P", "prod", "--endpoint-url", moto.endpoint, "-h", c.socketDirectory, "-p", "\(c.port)", "-U", c.superuser,
            "--immediate-checkpoint", location, server,
        ], environment: env)
        guard r.succeeded else { throw FixtureError("barman-cloud-backup failed (\(r.summary)): \(r.stderr.suffix(3000))") }
        let list = try await production.runAsServerUser("/usr/bin/barman-cloud-backup-list", [
            "-P", "prod", "--endpoint-url", moto.endpoint, "--format", "json", location, server,
        ], environment: env)
        guard list.succeeded, let first = try BarmanCloudJSON.backupList(list.stdout).first?.id else {
            throw FixtureError("barman-cloud-backup-list after the backup failed: \(list.stderr.suffix(2000))")
        }
        return Handle(production: production, moto: moto, bucket: bucket, location: location, firstBackup: first)
    }

    /// Closes the current WAL segment and waits until `barman-cloud-wal-archive` has archived it. Returns its name.
    @discardableResult
    public func archiveWAL() async throws -> String {
        let p = try await start().production
        let name = try await p.switchWAL()
        try await BarmanProduction.waitUntil("the archiver to archive \(name)", seconds: 90) {
            let last = try await p.psql("SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver")
            return last >= name
        }
        return name
    }

    /// Every object in the bucket with its SHA-256 (sorted), once nothing waits for the archiver.
    public func bucketListing() async throws -> [String] {
        let h = try await start()
        try await BarmanProduction.waitUntil("the archiver to catch up", seconds: 90) {
            try await h.production.psql("SELECT count(*) FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready'") == "0"
        }
        let out = try await S3Admin.run(endpoint: h.moto.endpoint, credentials: h.moto,
                                        ops: [["op": "list", "bucket": h.bucket, "prefix": ""]])
        return out.map { "\($0["key"] ?? ""): \($0["sha256"] ?? "")" }.sorted()
    }
}
