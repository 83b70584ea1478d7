import DrillCore
import Foundation
import Logging

/// Clones a production standby into a private scratch cluster with `pg_basebackup`: the live `ReplicaCloner`.
public struct PgBaseBackupCloner: ReplicaCloner {
    public var scratchRoot: String
    public var logger: Logger
    public var memoryBytes: UInt64

    public init(scratchRoot: String, logger: Logger, memoryBytes: UInt64 = ProcessInfo.processInfo.physicalMemory) {
        self.scratchRoot = scratchRoot
        self.logger = logger
        self.memoryBytes = memoryBytes
    }

    public func prepare(drill: DrillConfig, profile: RestoreProfile, postgres: PostgresInstallation?) async throws -> any ReplicaClone {
        let binaries = try await PostgresBinaries.forServer(postgres)
        let name = "drill-clone-\(UUID().uuidString.prefix(8).lowercased())"
        let cluster = try EmbeddedCluster.create(name: "clone-\(drill.name)", scratchRoot: scratchRoot, binaries: binaries,
                                                 settings: Self.settings(profile: profile, memoryBytes: memoryBytes, clusterName: name),
                                                 logger: logger)
        return ReplicaCloneSession(cluster: cluster, logger: logger)
    }

    /// The clone's settings, written last into `postgresql.auto.conf` (pure, tested): the physical-recovery settings
    /// (no TCP, no archiving, production's archive and recovery hooks cleared), then what makes it a standby that acts
    /// on nothing: hot standby (to call `pg_promote()`), no `primary_conninfo` (it does not stream; it replays what
    /// `-X stream` copied), no `primary_slot_name` (an inherited one names production's slot),
    /// `synchronous_standby_names` empty (inherited, it hangs the first write after promotion), a cluster name of its
    /// own, no `restore_command`.
    public static func settings(profile: RestoreProfile, memoryBytes: UInt64, clusterName: String) -> [(String, String)] {
        PhysicalSettings.forRecovery(profile: profile, memoryBytes: memoryBytes) + [
            // A promotion needs no big buffer pool, and a fresh server pays to map one in.
            ("shared_buffers", "128MB"),
            ("hot_standby", "on"), ("primary_conninfo", ""), ("primary_slot_name", ""), ("synchronous_standby_names", ""),
            ("archive_mode", "off"), ("restore_command", ""), ("cluster_name", clusterName),
            ("recovery_target_timeline", "latest"),
        ]
    }

    /// `pg_basebackup` from the standby (pure, tested): plain format with its WAL streamed, a fast restartpoint, no
    /// replication slot (never create one on production), never a password prompt.
    public static func baseBackupArguments(dataDirectory: String, maxRate: String?) -> [String] {
        ["--pgdata=\(dataDirectory)", "--write-recovery-conf", "--wal-method=stream", "--checkpoint=fast", "--no-slot",
         "--no-password", "--no-sync", "--label=drill clone"] + (maxRate.map { ["--max-rate=\($0)"] } ?? [])
    }
}

/// One clone: a scratch cluster populated by `pg_basebackup` from a standby, started as a standby, promoted.
final class ReplicaCloneSession: ReplicaClone, @unchecked Sendable {
    let cluster: EmbeddedCluster
    let logger: Logger
    private let lock = NSLock()
    private var user: String?
    private var _serverVersion = "unknown"
    private var extra: [(String, String)] = []

    init(cluster: EmbeddedCluster, logger: Logger) {
        self.cluster = cluster
        self.logger = logger
    }

    // MARK: ScratchDatabase

    var kind: String { "embedded" }
    var database: String { "postgres" }
    var connection: ConnectionParameters {
        var p = cluster.connection()
        if let user = lock.withLock({ user }) { p.keywords["user"] = user }
        return p
    }
    var serverVersion: String { lock.withLock { _serverVersion } }
    var settings: [String: String] { Dictionary(cluster.settings + lock.withLock { extra }, uniquingKeysWith: { _, b in b }) }
    func teardown() async -> TeardownResult { await cluster.teardown() }
    var keepInstructions: String {
        "psql \"host=\(cluster.socketDirectory) port=\(cluster.port) dbname=postgres\"  (stop it with: kill -INT \(cluster.serverPID.map(String.init) ?? "<pid>"); then delete \(cluster.root))"
    }

    // MARK: Copy

    func copy(from url: String, maxRate: String?, limits: ReplicaLimits) async throws -> CloneCopy {
        var params = try ConnInfo.parse(url, key: "replica.clone.url")
        params.keywords["connect_timeout"] = "\(max(2, Int(Bounded.seconds(limits.connect))))"
        params.keywords["application_name"] = "drill-clone"
        let tool = cluster.binaries.tool("pg_basebackup")
        let version = await PostgresBinaries.version(of: tool)
        // libpq conventions apply (PG* and .pgpass of drill's user): the URL's keywords are added, nothing is removed.
        let r = await ChildProcess.runCancellable(ProcessSpec(
            executable: tool, arguments: PgBaseBackupCloner.baseBackupArguments(dataDirectory: cluster.dataDirectory, maxRate: maxRate),
            environment: params.environment, stderr: .capture(limit: 32 * 1024)))
        try Task.checkCancellation()
        guard r.succeeded else {
            let message = lastError(r.stderr)
            if message.contains("REPLICATION") || message.contains("replication connection") || message.contains("must be superuser or replication") {
                throw DrillError(.permissionDenied, "pg_basebackup from the standby was refused: \(message). The clone needs a role with REPLICATION (ALTER ROLE … REPLICATION;) and a \"replication\" line for it in the standby's pg_hba.conf")
            }
            throw DrillError(.restoreFailed, "pg_basebackup from the standby failed (\(r.summary)): \(message)")
        }
        // -R wrote production's connection (user, host, perhaps a password or passfile) into postgresql.auto.conf:
        // remove it before anything else reads the folder.
        try ClonedConfiguration.removeSetting("primary_conninfo", in: (cluster.dataDirectory as NSString).appendingPathComponent("postgresql.auto.conf"))
        if let runAs = cluster.runAs {
            let chown = await ChildProcess.runCancellable(ProcessSpec(executable: cluster.binaries.tool("chown"),
                                                                      arguments: ["-R", "\(runAs.uid):\(runAs.gid)", "--", cluster.dataDirectory]))
            guard chown.succeeded else { throw DrillError(.provisionFailed, "cannot hand the clone to \(runAs.user): \(lastError(chown.stderr))") }
        }
        chmod(cluster.dataDirectory, 0o700)
        return CloneCopy(tool: "pg_basebackup \(version)", bytes: Self.size(of: cluster.dataDirectory))
    }

    static func size(of dir: String) -> Int64? {
        guard let e = FileManager.default.enumerator(atPath: dir) else { return nil }
        var total: Int64 = 0
        while let f = e.nextObject() as? String {
            if let n = e.fileAttributes?[.size] as? NSNumber, e.fileAttributes?[.type] as? FileAttributeType == .typeRegular {
                total += n.int64Value
            }
            _ = f
        }
        return total
    }

    // MARK: Start

    func start(superuser: String, within: Duration) async throws -> CloneStart {
        let fm = FileManager.default
        let data = cluster.dataDirectory
        let texts = ["postgresql.conf", "postgresql.auto.conf"].compactMap {
            fm.contents(atPath: (data as NSString).appendingPathComponent($0)).map { String(decoding: $0, as: UTF8.self) }
        }
        let inherited = ClonedConfiguration.replicationSettings(ClonedConfiguration.settings(in: texts))
        // Production's pg_hba.conf is replaced: the clone is reached over its private socket only.
        let hba = (cluster.root as NSString).appendingPathComponent("pg_hba.conf")
        let ident = (cluster.root as NSString).appendingPathComponent("pg_ident.conf")
        try AtomicFile.write(Data("local all all trust\n".utf8), to: hba, mode: 0o600)
        try AtomicFile.write(Data(), to: ident, mode: 0o600)
        try? fm.removeItem(atPath: (data as NSString).appendingPathComponent("recovery.signal"))
        let signal = (data as NSString).appendingPathComponent("standby.signal")
        if !fm.fileExists(atPath: signal) { try AtomicFile.write(Data(), to: signal, mode: 0o600) }
        for p in [hba, ident, signal] { if let runAs = cluster.runAs { try runAs.chown(p) } }
        let added = [("hba_file", hba), ("ident_file", ident)]
        try cluster.writeConfiguration(to: "postgresql.auto.conf", extra: added)
        lock.withLock {
            extra = added
            user = superuser
        }
        let deadline = ContinuousClock.now + within
        do {
            try await cluster.launch(readyWithin: Bounded.seconds(within))
        } catch let e as DrillError {
            throw DrillError(.provisionFailed, "the clone did not start as a standby: \(e.message)")
        }
        let conn = try await connect()
        defer { DispatchQueue.global().async { conn.close() } }
        if try await ask(conn, "SELECT pg_is_in_recovery()", until: deadline).first?.first ?? nil != "t" {
            throw DrillError(.provisionFailed, "the clone is not in recovery after its start: it did not start as a standby")
        }
        var effective: [String: String] = [:]
        for name in ClonedConfiguration.reported {
            effective[name] = try await ask(conn, "SELECT current_setting(\(PGConnection.quoteLiteral(name)), true)", until: deadline)
                .first?.first ?? nil
        }
        // Never report a connection string: it may hold a password.
        if let c = effective["primary_conninfo"], !c.isEmpty { effective["primary_conninfo"] = "(set)" }
        let version = conn.serverVersion
        lock.withLock { _serverVersion = version }
        return CloneStart(inherited: inherited, effective: effective, serverVersion: version)
    }

    // MARK: Promote

    func promote(within: Duration) async throws -> ClonePromotion {
        let conn = try await connect()
        defer { DispatchQueue.global().async { conn.close() } }
        let clock = ContinuousClock()
        let deadline = clock.now + within
        let t0 = clock.now
        let waitSeconds = max(1, Int(Bounded.seconds(within)))
        let promoted = try await ask(conn, "SELECT pg_promote(true, \(waitSeconds))", until: deadline).first?.first ?? nil
        let call = t0.duration(to: clock.now)
        guard promoted == "t" else { throw DrillError(.recoveryFailed, "pg_promote() on the clone did not finish within \(waitSeconds) s") }
        // The first write: a durable commit. A synchronous_standby_names inherited from production would hang it in
        // SyncRep, where statement_timeout does not reach: the bound cancels it.
        while true {
            do {
                _ = try await ask(conn, "CREATE TABLE drill_clone_first_write AS SELECT clock_timestamp() AS at", until: deadline)
                break
            } catch let e as DrillError where e.message.contains("read-only") {
                try await Task.sleep(for: .milliseconds(5))
            }
        }
        let total = t0.duration(to: clock.now)
        let tl = try await ask(conn, "SELECT substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)", until: deadline).first?.first ?? nil
        return ClonePromotion(seconds: Bounded.seconds(total), promoteCallSeconds: Bounded.seconds(call),
                              timeline: tl.flatMap { UInt32($0, radix: 16) })
    }

    // MARK: Helpers

    private func connect() async throws -> PGConnection {
        let p = connection
        do {
            return try await Bounded.blocking(within: .seconds(30), { try PGConnection(p) }, abandon: { $0.close() })
        } catch {
            throw DrillError(.provisionFailed, "cannot connect to the clone (\(p.display)): \(error)")
        }
    }

    /// One statement on the clone, cancelled at `deadline`.
    private func ask(_ conn: PGConnection, _ sql: String, until deadline: ContinuousClock.Instant) async throws -> [[String?]] {
        let left = ContinuousClock.now.duration(to: deadline)
        do {
            return try await Bounded.run(within: max(left, .milliseconds(1))) { try await conn.query(sql) }
        } catch is Bounded.Timeout {
            throw DrillError(.recoveryFailed, "the clone did not answer \(sql.prefix(40))… in time (a write waiting for a synchronous standby?); it was cancelled")
        } catch let f as PGConnection.Failure {
            throw DrillError(.recoveryFailed, "the clone refused \(sql.prefix(40))…: \(f.message)")
        }
    }
}
