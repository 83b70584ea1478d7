import DrillCore
import DrillLive
import Foundation
import Logging

/// A real replication topology on loopback for replica drills: a primary (archiving, `wal_level = logical`), a
/// streaming standby made with `pg_basebackup -R -S` (its own slot on the primary, `synchronous_standby_names = '*'`
/// in its configuration, as a trap for clones), a logical subscriber of a publication, and an unconsumed `pgoutput`
/// slot. Every connection, between the clusters and drill's, is TCP on 127.0.0.1 with password roles (drill reads its
/// passwords from a passfile). Started once per test process, stopped at exit.
public actor ReplicaTopology {
    public static let shared = ReplicaTopology()

    public static let monitor = (user: "drill_monitor", password: "m0nitor-Pa55-never-shown")
    public static let nomon = (user: "drill_nomon", password: "n0mon-Pa55-never-shown")
    static let admin = (user: "fixture_admin", password: "adm1n-Pa55-never-shown")
    static let repl = (user: "fixture_repl", password: "r3pl-Pa55-never-shown")
    public static let standbyName = "stby1"
    public static let standbySlot = "stby1_slot"
    public static let cdcSlot = "debezium"
    public static let subscription = "analytics"
    public static let publication = "drill_pub"
    public static let heartbeat = "drill_heartbeat"
    public static let database = "shop"
    public static let subscriberDatabase = "analytics"

    public struct Nodes: Sendable {
        public var primary: EmbeddedCluster
        public var standby: EmbeddedCluster
        public var subscriber: EmbeddedCluster
        /// The primary's WAL archive folder.
        public var archive: String
        /// drill's passfile (0600): the monitor roles' passwords for every node.
        public var passfile: String
    }

    public enum Node: Sendable { case primary, standby, subscriber }

    private var starting: Task<(Nodes, TempFolder), any Error>?
    private var savedConninfo: String?

    public func start() async throws -> Nodes {
        if starting == nil { starting = Task { try await Self.boot() } }
        return try await starting!.value.0
    }

    // MARK: URLs and SQL

    /// drill's connection to a node: `postgresql://ROLE@127.0.0.1:PORT/DB?passfile=…` (no password in it).
    public func url(_ node: Node, user: String = ReplicaTopology.monitor.user, port: Int? = nil) async throws -> String {
        let n = try await start()
        let c = cluster(n, node)
        let db = node == .subscriber ? Self.subscriberDatabase : Self.database
        return "postgresql://\(user)@127.0.0.1:\(port ?? c.port)/\(db)?passfile=\(n.passfile)&sslmode=disable"
    }

    /// Runs SQL (one statement) as the fixture's superuser over TCP and returns the rows.
    @discardableResult
    public func sql(_ node: Node, _ statement: String, database: String? = nil) async throws -> [[String?]] {
        let n = try await start()
        return try await Self.sql(cluster(n, node), statement, database: database ?? Self.database(node))
    }

    /// The first value of the first row.
    public func value(_ node: Node, _ statement: String) async throws -> String? {
        try await sql(node, statement).first?.first ?? nil
    }

    static func database(_ node: Node) -> String { node == .subscriber ? subscriberDatabase : database }

    static func sql(_ c: EmbeddedCluster, _ statement: String, database: String) async throws -> [[String?]] {
        let conn = try PGConnection(adminParameters(c, database: database))
        defer { conn.close() }
        return try await conn.query(statement)
    }

    static func value(_ c: EmbeddedCluster, _ statement: String, database: String = ReplicaTopology.database) async throws -> String? {
        try await sql(c, statement, database: database).first?.first ?? nil
    }

    private func cluster(_ n: Nodes, _ node: Node) -> EmbeddedCluster {
        switch node {
        case .primary: n.primary
        case .standby: n.standby
        case .subscriber: n.subscriber
        }
    }

    static func adminParameters(_ c: EmbeddedCluster, database: String) -> ConnectionParameters {
        ConnectionParameters(["host": "127.0.0.1", "port": "\(c.port)", "user": admin.user, "password": admin.password,
                              "dbname": database, "sslmode": "disable", "gssencmode": "disable", "connect_timeout": "10"],
                             isolated: true)
    }

    // MARK: States the tests put the topology in

    /// Inserts a row into the primary's `orders` every 20 ms until stopped.
    public func startWriting() async throws -> Writer {
        let n = try await start()
        return try Writer(Self.adminParameters(n.primary, database: Self.database))
    }

    /// `now() - pg_last_xact_replay_timestamp()` on the standby, in seconds: the naive lag figure.
    public func naiveReplayAge() async throws -> Double? {
        try await value(.standby, "SELECT extract(epoch FROM now() - pg_last_xact_replay_timestamp())::text").flatMap(Double.init)
    }

    /// Updates the heartbeat as a drill would, and waits until the standby shows it.
    public func beat() async throws {
        let seq = try await value(.primary, "UPDATE \(Self.heartbeat) SET ts = clock_timestamp(), seq = seq + 1 RETURNING seq::text")
        try await until("the standby shows heartbeat \(seq ?? "?")") {
            try await self.value(.standby, "SELECT seq::text FROM \(Self.heartbeat)") == seq
        }
    }

    public func pauseReplay() async throws {
        try await sql(.standby, "SELECT pg_wal_replay_pause()")
    }

    public func resumeReplay() async throws {
        try await sql(.standby, "SELECT pg_wal_replay_resume()")
        try await waitCaughtUp()
    }

    /// Points the standby's walreceiver at a closed port: it cannot reach the primary any more.
    public func disconnectStandby() async throws {
        if savedConninfo == nil { savedConninfo = try await value(.standby, "SHOW primary_conninfo") }
        try await sql(.standby, "ALTER SYSTEM SET primary_conninfo = 'host=127.0.0.1 port=1 user=nobody connect_timeout=2'")
        try await sql(.standby, "SELECT pg_reload_conf()")
        try await until("the primary no longer streams to \(Self.standbyName)") {
            try await self.value(.primary, "SELECT count(*)::text FROM pg_stat_replication WHERE application_name = '\(Self.standbyName)'") == "0"
        }
    }

    public func reconnectStandby() async throws {
        guard let saved = savedConninfo else { return }
        try await sql(.standby, "ALTER SYSTEM SET primary_conninfo = \(PGConnection.quoteLiteral(saved))")
        try await sql(.standby, "SELECT pg_reload_conf()")
        try await waitCaughtUp()
    }

    /// Waits until the standby streams and has replayed the primary's current position.
    public func waitCaughtUp() async throws { try await Self.waitCaughtUp(try await start()) }

    static func waitCaughtUp(_ n: Nodes) async throws {
        try await until("\(standbyName) streams") {
            try await value(n.primary, "SELECT state FROM pg_stat_replication WHERE application_name = '\(standbyName)'") == "streaming"
        }
        let target = try await value(n.primary, "SELECT pg_current_wal_lsn()::text") ?? "0/0"
        try await until("\(standbyName) replays \(target)") {
            try await value(n.standby, "SELECT (pg_last_wal_replay_lsn() >= '\(target)')::text") == "true"
        }
    }

    /// The primary's slots: name, active, and whose walsender holds it.
    public func slots() async throws -> [[String?]] {
        try await sql(.primary, "SELECT slot_name::text, slot_type, active::text FROM pg_replication_slots ORDER BY 1")
    }

    /// The archive's files and their contents' digests, once the archiver has caught up.
    public func archive() async throws -> [String: Int] {
        let n = try await start()
        try await until("the archiver catches up") {
            try await self.value(.primary, "SELECT count(*)::text FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready'") == "0"
        }
        var out: [String: Int] = [:]
        for f in (try? FileManager.default.contentsOfDirectory(atPath: n.archive)) ?? [] {
            let data = FileManager.default.contents(atPath: (n.archive as NSString).appendingPathComponent(f)) ?? Data()
            out[f] = data.hashValue
        }
        return out
    }

    private func until(_ what: String, within seconds: Double = 30, _ condition: @Sendable () async throws -> Bool) async throws {
        try await Self.until(what, within: seconds, condition)
    }

    static func until(_ what: String, within seconds: Double = 30, _ condition: @Sendable () async throws -> Bool) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            if (try? await condition()) == true { return }
            if Date() > deadline { throw DrillError(.restoreFailed, "the replica fixture waited \(Int(seconds)) s in vain: \(what)") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    // MARK: Boot

    private static func boot() async throws -> (Nodes, TempFolder) {
        let folder = TempFolder("repl")
        let archive = folder.sub("archive")
        let runAs = try RunAs.productionAccount()
        if let runAs { try runAs.chown(archive) }
        guard let binaries = await PostgresBinaries.discover() else { throw DrillError(.noPostgres, "no PostgreSQL binaries") }
        let logger = Logger(label: "test-replica")
        var started: [EmbeddedCluster] = []
        do {
            let primary = try await EmbeddedCluster.start(
                name: "rprimary", scratchRoot: folder.path, binaries: binaries,
                settings: ServerSettings.forRestore(profile: .fast, jobs: 2, memoryBytes: 2 << 30) + [
                    ("shared_buffers", "64MB"), ("max_connections", "60"), ("wal_level", "logical"), ("max_wal_senders", "10"),
                    ("max_replication_slots", "10"), ("archive_mode", "on"),
                    ("archive_command", "test ! -f '\(archive)/%f' && cp '%p' '\(archive)/%f'"), ("synchronous_commit", "on"),
                    ("full_page_writes", "on"),
                    ("wal_sender_timeout", "10s"), ("log_timezone", "UTC"),
                ], logger: logger, account: .fixed(runAs))
            started.append(primary)
            let socketAdmin = try PGConnection(primary.connection())
            for stmt in [
                "CREATE ROLE \(admin.user) LOGIN SUPERUSER PASSWORD '\(admin.password)'",
                "CREATE ROLE \(repl.user) LOGIN REPLICATION PASSWORD '\(repl.password)'",
                "CREATE ROLE \(monitor.user) LOGIN PASSWORD '\(monitor.password)'",
                "CREATE ROLE \(nomon.user) LOGIN PASSWORD '\(nomon.password)'",
                "CREATE DATABASE \(database)",
            ] { _ = try socketAdmin.execSync(stmt) }
            socketAdmin.close()
            let sql = ReplicaInit.sql(role: monitor.user, table: heartbeat, clone: true) + """
                CREATE TABLE orders (id bigserial PRIMARY KEY, note text, created_at timestamptz NOT NULL DEFAULT clock_timestamp());
                INSERT INTO orders (note) SELECT 'seed' FROM generate_series(1, 100);
                GRANT SELECT ON orders TO \(monitor.user), \(nomon.user);
                GRANT SELECT ON orders, \(heartbeat) TO \(repl.user);
                CREATE PUBLICATION \(publication) FOR TABLE orders, \(heartbeat);
                """
            try await psql(binaries, primary, database: database, sql)
            // Its own statement: a logical slot cannot be created in a transaction that has written.
            try await psql(binaries, primary, database: database, "SELECT pg_create_logical_replication_slot('\(cdcSlot)', 'pgoutput')")

            let standby = try EmbeddedCluster.create(name: "rstandby", scratchRoot: folder.path, binaries: binaries, settings: [
                ("hot_standby", "on"), ("cluster_name", standbyName), ("synchronous_standby_names", "*"),
                ("wal_retrieve_retry_interval", "200ms"), ("wal_receiver_status_interval", "1s"), ("log_timezone", "UTC"),
            ], logger: logger, account: .fixed(runAs))
            started.append(standby)
            let bb = try await ChildProcess.run(ProcessSpec(
                executable: binaries.tool("pg_basebackup"),
                arguments: ["-D", standby.dataDirectory, "-R", "-S", standbySlot, "-C", "-X", "stream", "-c", "fast", "--no-password"],
                environment: tcpEnvironment(primary, user: repl.user, password: repl.password, database: "postgres"),
                unsetEnvironment: ["PG*"]))
            guard bb.succeeded else { throw DrillError(.restoreFailed, "pg_basebackup for the standby failed: \(bb.stderr)") }
            if let runAs {
                let r = try await ChildProcess.run(ProcessSpec(executable: "/bin/chown", arguments: ["-R", "\(runAs.uid):\(runAs.gid)", standby.dataDirectory]))
                guard r.succeeded else { throw DrillError(.restoreFailed, "chown: \(r.stderr)") }
            }
            chmod(standby.dataDirectory, 0o700)
            try standby.writeConfiguration(to: "postgresql.auto.conf")
            try await standby.launch()

            let subscriber = try await EmbeddedCluster.start(
                name: "rsub", scratchRoot: folder.path, binaries: binaries,
                settings: ServerSettings.forRestore(profile: .fast, jobs: 2, memoryBytes: 2 << 30) + [
                    ("shared_buffers", "32MB"), ("max_connections", "30"), ("log_timezone", "UTC"),
                ], logger: logger, account: .fixed(runAs))
            started.append(subscriber)
            let subAdmin = try PGConnection(subscriber.connection())
            for stmt in [
                "CREATE ROLE \(admin.user) LOGIN SUPERUSER PASSWORD '\(admin.password)'",
                "CREATE ROLE \(monitor.user) LOGIN PASSWORD '\(monitor.password)'",
                "GRANT pg_monitor TO \(monitor.user)",
                "CREATE DATABASE \(subscriberDatabase)",
            ] { _ = try subAdmin.execSync(stmt) }
            subAdmin.close()
            try await psql(binaries, subscriber, database: subscriberDatabase, """
                CREATE TABLE orders (id bigserial PRIMARY KEY, note text, created_at timestamptz NOT NULL DEFAULT clock_timestamp());
                CREATE TABLE \(heartbeat) (id int PRIMARY KEY CHECK (id = 1), seq bigint NOT NULL, ts timestamptz NOT NULL);
                GRANT SELECT ON orders, \(heartbeat) TO \(monitor.user);
                """)
            try await psql(binaries, subscriber, database: subscriberDatabase, """
                CREATE SUBSCRIPTION \(subscription) CONNECTION 'host=127.0.0.1 port=\(primary.port) user=\(repl.user) password=\(repl.password) dbname=\(database) sslmode=disable' PUBLICATION \(publication)
                """)

            let passfile = folder.file("pgpass")
            let lines = [monitor, nomon].map { "127.0.0.1:*:*:\($0.user):\($0.password)" }.joined(separator: "\n") + "\n"
            try AtomicFile.write(Data(lines.utf8), to: passfile, mode: 0o600)

            ExitCleanup.register(pid: subscriber.serverPID, paths: [subscriber.root, subscriber.socketDirectory])
            ExitCleanup.register(pid: standby.serverPID, paths: [standby.root, standby.socketDirectory])
            ExitCleanup.register(pid: primary.serverPID, paths: [primary.root, primary.socketDirectory, folder.path])
            let nodes = Nodes(primary: primary, standby: standby, subscriber: subscriber, archive: archive, passfile: passfile)
            try await waitCaughtUp(nodes)
            try await until("the subscription has copied its tables", within: 60) {
                let pending = try await value(subscriber, "SELECT count(*)::text FROM pg_subscription_rel WHERE srsubstate NOT IN ('r', 's')",
                                              database: subscriberDatabase)
                let beats = try await value(subscriber, "SELECT count(*)::text FROM \(heartbeat)", database: subscriberDatabase)
                return pending == "0" && beats == "1"
            }
            return (nodes, folder)
        } catch {
            for c in started.reversed() { _ = await c.teardown() }
            throw error
        }
    }

    private static func tcpEnvironment(_ c: EmbeddedCluster, user: String, password: String, database: String) -> [String: String] {
        ["PGHOST": "127.0.0.1", "PGPORT": "\(c.port)", "PGUSER": user, "PGPASSWORD": password, "PGDATABASE": database,
         "PGSSLMODE": "disable", "PGCONNECT_TIMEOUT": "10"]
    }

    private static func psql(_ b: PostgresBinaries, _ c: EmbeddedCluster, database: String, _ sql: String) async throws {
        let r = try await ChildProcess.run(ProcessSpec(
            executable: b.tool("psql"), arguments: ["-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql],
            environment: tcpEnvironment(c, user: admin.user, password: admin.password, database: database), unsetEnvironment: ["PG*"]))
        guard r.succeeded else { throw DrillError(.restoreFailed, "psql failed: \(r.stderr)") }
    }
}

/// A background writer on the primary (one small INSERT every 20 ms), stopped by `stop()`.
public final class Writer: Sendable {
    private let task: Task<Void, Never>

    init(_ parameters: ConnectionParameters) throws {
        let conn = try PGConnection(parameters)
        task = Task {
            while !Task.isCancelled {
                _ = try? await conn.query("INSERT INTO orders (note) VALUES ('w')")
                try? await Task.sleep(for: .milliseconds(20))
            }
            conn.close()
        }
    }

    public func stop() async {
        task.cancel()
        await task.value
    }
}
