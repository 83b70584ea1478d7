import DrillCore
import DrillLive
import Foundation
import Logging

/// A "production" cluster backed up by the real pgBackRest: `archive_command = 'pgbackrest … archive-push %p'` into a
/// repository the fixture creates (a local folder, or an S3 bucket on moto behind stunnel's TLS), a stanza, and
/// backups taken with `pgbackrest backup`. The cluster and pgBackRest run as the unprivileged server user (when the
/// tests run as root); drill, like a real operator's, runs as the test process's user.
///
/// One instance per repository kind, started once per test process and removed at exit.
public actor PgBackRestSource {
    public static let local = PgBackRestSource(repository: .local)
    public static let s3 = PgBackRestSource(repository: .s3)

    public enum Repository: Sendable { case local, s3 }

    public static let stanza = "prod"

    /// What a drill needs to reach the repository.
    public struct Handle: Sendable {
        public var cluster: EmbeddedCluster
        /// The production pgbackrest.conf (repository, stanza, cluster), owned by the server user. For S3 it holds
        /// the secret key, as a production configuration would: drills never use it, they get the key by environment.
        public var config: String
        /// The local repository's folder (local kind only).
        public var repoPath: String?
        /// The repository options a drill file gives instead of a config file (no secret among them).
        public var options: [String: String]
        /// Environment a drill needs besides `options` (the S3 credentials as `PGBACKREST_REPO1_S3_KEY*`).
        public var environment: [String: String]
        /// moto's endpoint and credentials (S3 kind only), for listing the bucket independently of pgBackRest.
        public var moto: MotoServer.Handle?
        public var bucket: String?
        /// The fixture's own folder (removed at exit).
        public var folder: String
    }

    let repository: Repository
    /// The handle, and what must live as long as the fixture: the TLS terminator (S3 only) and the folder (a
    /// `TempFolder` deletes itself when released).
    private var starting: Task<(Handle, StunnelServer?, TempFolder), any Error>?

    init(repository: Repository) { self.repository = repository }

    public func start() async throws -> Handle {
        if starting == nil {
            let repository = self.repository
            starting = Task { try await Self.boot(repository) }
        }
        return try await starting!.value.0
    }

    private static func boot(_ repository: Repository) async throws -> (Handle, StunnelServer?, TempFolder) {
        let folder = TempFolder(repository == .local ? "pgbr" : "pgbr-s3")
        ExitCleanup.register(pid: nil, paths: [folder.path])
        let runAs = try RunAs.productionAccount()
        let lock = folder.sub("lock")
        let conf = folder.file("pgbackrest.conf")
        var global = ["lock-path=\(lock)", "log-level-file=off", "log-level-console=warn", "start-fast=y",
                      "repo1-retention-full=9999"]
        var options: [String: String] = [:]
        var environment: [String: String] = [:]
        var repoPath: String?
        var moto: MotoServer.Handle?
        var bucket: String?
        var stunnel: StunnelServer?
        switch repository {
        case .local:
            let repo = folder.sub("repo")
            if let runAs { try runAs.chown(repo) }
            chmod(repo, 0o750)
            global.append("repo1-path=\(repo)")
            options["repo1-path"] = repo
            repoPath = repo
        case .s3:
            let m = try await MotoServer.shared.start()
            let name = await MotoServer.shared.newBucketName("pgbackrest")
            try await S3Admin.run(endpoint: m.endpoint, credentials: m, ops: [["op": "bucket", "bucket": name]])
            let upstream = Int(m.endpoint.split(separator: ":").last!)!
            let tunnel = try await StunnelServer.start(in: TempFolder("stunnel"), upstreamPort: upstream)
            stunnel = tunnel
            let s3: [String: String] = [
                "repo1-type": "s3", "repo1-path": "/pgbackrest", "repo1-s3-bucket": name, "repo1-s3-endpoint": "localhost",
                "repo1-s3-region": "us-east-1", "repo1-s3-uri-style": "path", "repo1-storage-port": "\(tunnel.port)",
                "repo1-storage-ca-file": tunnel.caFile,
            ]
            options = s3
            global += s3.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            // Production's config holds the key (as a real one would); the drill gets it by environment only.
            global += ["repo1-s3-key=\(m.accessKeyID)", "repo1-s3-key-secret=\(m.secretAccessKey)", "repo1-bundle=y"]
            environment = ["PGBACKREST_REPO1_S3_KEY": m.accessKeyID, "PGBACKREST_REPO1_S3_KEY_SECRET": m.secretAccessKey]
            moto = m
            bucket = name
        }
        if let runAs { try runAs.chown(lock) }

        guard let binaries = await PostgresBinaries.discover() else { throw DrillError(.noPostgres, "no PostgreSQL binaries") }
        let archiveCommand = "pgbackrest --config=\(conf) --stanza=\(stanza) archive-push %p"
        let settings = ServerSettings.forRestore(profile: .fast, jobs: 2, memoryBytes: 2 << 30) + [
            ("wal_level", "replica"), ("max_wal_senders", "4"), ("archive_mode", "on"), ("archive_command", archiveCommand),
            ("fsync", "on"), ("synchronous_commit", "on"), ("full_page_writes", "on"), ("log_timezone", "UTC"),
        ]
        // The config names the cluster, so it is written once the cluster's folders exist; the archiver only runs it
        // when the first segment is complete (after stanza-create).
        let c = try await EmbeddedCluster.start(name: "pgbr-\(repository)", scratchRoot: folder.path, binaries: binaries,
                                                settings: settings, logger: Logger(label: "test-pgbackrest-source"),
                                                account: .fixed(runAs))
        ExitCleanup.register(pid: c.serverPID, paths: [c.root, c.socketDirectory])
        let text = "[global]\n" + global.joined(separator: "\n") + "\n\n[\(stanza)]\npg1-path=\(c.dataDirectory)\npg1-port=\(c.port)\n"
            + "pg1-socket-path=\(c.socketDirectory)\npg1-user=\(c.superuser)\n"
        try AtomicFile.write(Data(text.utf8), to: conf, mode: 0o600)
        if let runAs { try runAs.chown(conf) }
        let handle = Handle(cluster: c, config: conf, repoPath: repoPath, options: options, environment: environment, moto: moto,
                            bucket: bucket, folder: folder.path)
        try await pgbackrest(handle, ["stanza-create"])
        return (handle, stunnel, folder)
    }

    // MARK: pgBackRest as production runs it

    /// Runs `pgbackrest --config=<production config> --stanza=prod <arguments>` as the server user.
    @discardableResult
    static func pgbackrest(_ h: Handle, _ arguments: [String]) async throws -> String {
        guard let exe = PgBackRestCLI.discover() else { throw FixtureError("pgbackrest is not installed: run scripts/install-deps.sh") }
        let args = ["--config=\(h.config)", "--stanza=\(stanza)"] + arguments
        let (cmd, argv) = h.cluster.runAs?.wrap(exe, args) ?? (exe, args)
        let r = try await ChildProcess.run(ProcessSpec(executable: cmd, arguments: argv, unsetEnvironment: ["PGBACKREST_*", "PG*"],
                                                       workingDirectory: h.folder))
        guard r.succeeded else { throw FixtureError("pgbackrest \(arguments.joined(separator: " ")) failed (\(r.summary)): \(r.stderr)\(r.stdout)") }
        return r.stdout
    }

    /// Takes a backup (`full`, `diff` or `incr`) and returns its label.
    @discardableResult
    public func backup(_ type: String) async throws -> String {
        let h = try await start()
        try await Self.pgbackrest(h, ["--type=\(type)", "backup"])
        let json = try await Self.pgbackrest(h, ["--output=json", "info"])
        let info = try PgBackRestInfo.parse(Data(json.utf8), stanza: Self.stanza)
        guard let newest = info.backups(repo: 1).last else { throw FixtureError("pgbackrest backup left no backup") }
        return newest.label
    }

    /// `pgbackrest info --output=json`, parsed.
    public func info() async throws -> PgBackRestInfo {
        let h = try await start()
        return try PgBackRestInfo.parse(Data(try await Self.pgbackrest(h, ["--output=json", "info"]).utf8), stanza: Self.stanza)
    }

    // MARK: Writes

    @discardableResult
    public func psql(_ sql: String, database: String = "postgres") async throws -> String {
        let c = try await start().cluster
        let r = try await ChildProcess.run(ProcessSpec(
            executable: c.binaries.tool("psql"), arguments: ["-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql],
            environment: c.connection(database: database).environment, unsetEnvironment: ["PG*"]))
        guard r.succeeded else { throw FixtureError("psql failed: \(r.stderr)") }
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Creates `database` with `ledger (id, batch, note, created_at)` if it does not exist yet.
    public func createLedger(_ database: String) async throws {
        if try await psql("SELECT 1 FROM pg_database WHERE datname = '\(database)'").isEmpty {
            try await psql("CREATE DATABASE \(database)")
            try await psql("CREATE TABLE ledger (id bigserial PRIMARY KEY, batch text NOT NULL, note text, created_at timestamptz NOT NULL DEFAULT clock_timestamp())",
                           database: database)
        }
    }

    /// Inserts `rows` rows of `batch` in one transaction; returns the commit time of its newest row (its
    /// `created_at` is taken just before the commit).
    @discardableResult
    public func insert(batch: String, rows: Int, into database: String) async throws -> Date {
        try await psql("INSERT INTO ledger (batch, note) SELECT '\(batch)', repeat('x', 200) FROM generate_series(1, \(rows))",
                       database: database)
        let text = try await psql("SELECT extract(epoch FROM max(created_at))::text FROM ledger WHERE batch = '\(batch)'", database: database)
        return Date(timeIntervalSince1970: Double(text)!)
    }

    /// The time now on the server.
    public func now() async throws -> Date {
        Date(timeIntervalSince1970: Double(try await psql("SELECT extract(epoch FROM clock_timestamp())::text"))!)
    }

    /// Closes the current WAL segment and waits until the archiver has pushed it (and nothing is pending).
    @discardableResult
    public func switchWAL() async throws -> String {
        let name = try await psql("SELECT pg_walfile_name(pg_switch_wal())")
        try await waitForArchiver(atLeast: name)
        return name
    }

    /// Waits until the archiver has pushed `name` (if given) and no segment waits as `.ready`.
    public func waitForArchiver(atLeast name: String? = nil) async throws {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let last = try await psql("SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver")
            let pending = try await psql("SELECT count(*) FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready'")
            if pending == "0" && last >= (name ?? "") { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw FixtureError("the archiver did not push \(name ?? "its pending segments") within 60 s")
    }

    // MARK: The repository, byte for byte

    /// Every file of the repository with its SHA-256 (path relative to the repository), once the archiver has caught up.
    public func snapshot() async throws -> [String: String] {
        let h = try await start()
        try await waitForArchiver()
        if let repo = h.repoPath {
            var out: [String: String] = [:]
            let fm = FileManager.default
            for rel in try fm.subpathsOfDirectory(atPath: repo) {
                let p = (repo as NSString).appendingPathComponent(rel)
                var isDir: ObjCBool = false
                guard fm.fileExists(atPath: p, isDirectory: &isDir), !isDir.boolValue else { continue }
                out[rel] = try SHA256Hasher.hex(ofFile: p).digest
            }
            return out
        }
        guard let moto = h.moto, let bucket = h.bucket else { return [:] }
        let listed = try await S3Admin.run(endpoint: moto.endpoint, credentials: moto, ops: [["op": "list", "bucket": bucket, "prefix": ""]])
        return Dictionary(listed.compactMap { o in o["key"].flatMap { k in o["sha256"].map { (k, $0) } } }, uniquingKeysWith: { a, _ in a })
    }

    /// A copy of the local repository (owned like the original), once the archiver has caught up; returns its folder.
    public func repositoryCopy(in folder: TempFolder, name: String = "repo-copy") async throws -> String {
        let h = try await start()
        guard let repo = h.repoPath else { throw FixtureError("only a local repository can be copied") }
        try await waitForArchiver()
        let copy = folder.file(name)
        let cp = try await ChildProcess.run(ProcessSpec(executable: "/bin/cp", arguments: ["-a", "--", repo, copy]))
        guard cp.succeeded else { throw FixtureError("cp -a failed: \(cp.stderr)") }
        return copy
    }

    /// A copy of the local repository (owned like the original) in which one file of backup `label` is damaged:
    /// 64 bytes in the middle of its largest compressed file are inverted. Returns the copy's folder and the damaged
    /// file's path relative to the backup folder of the stanza (as pgBackRest names it: `<label>/pg_data/…`).
    public func damagedCopy(of label: String, in folder: TempFolder) async throws -> (repo: String, file: String) {
        let copy = try await repositoryCopy(in: folder, name: "repo-damaged")
        let backupDir = (copy as NSString).appendingPathComponent("backup/\(Self.stanza)")
        let labelDir = (backupDir as NSString).appendingPathComponent(label)
        let fm = FileManager.default
        var largest: (String, Int)?
        for rel in try fm.subpathsOfDirectory(atPath: labelDir) where rel.hasPrefix("pg_data/base/") && rel.hasSuffix(".gz") {
            let size = (try fm.attributesOfItem(atPath: (labelDir as NSString).appendingPathComponent(rel))[.size] as? NSNumber)?.intValue ?? 0
            if size > (largest?.1 ?? 0) { largest = (rel, size) }
        }
        guard let (rel, size) = largest, size > 256 else { throw FixtureError("backup \(label) has no compressed data file to damage") }
        let path = (labelDir as NSString).appendingPathComponent(rel)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        for i in (size / 2)..<(size / 2 + 64) { bytes[i] ^= 0xFF }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return (copy, "\(label)/\(rel)")
    }
}
