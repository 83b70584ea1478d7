import DrillCore
import DrillLive
import Foundation

/// A Barman server on this host backing up a "production" cluster: a `barman.conf` in a test folder (barman_home
/// owned by the `barman` user), `backup_method = postgres`, `streaming_archiver = on` through a replication slot,
/// `barman receive-wal` running in the background, and one `barman backup` taken at start. Barman reaches the
/// cluster over TCP on 127.0.0.1 as a password role, the password in a `.pgpass` only the barman user reads
/// (`PGPASSFILE`, given to the fixture's own barman commands only). Started once per test process; at exit
/// receive-wal and the cluster are stopped and the folder removed.
public actor BarmanServerSource {
    public static let shared = BarmanServerSource()
    public static let server = "prod"
    public static let database = "ledgerdb"

    public struct Handle: Sendable {
        public var production: BarmanProduction
        /// The Barman configuration file: the drill's `backup.config`.
        public var config: String
        public var barmanHome: String
        /// The backup id `barman backup` took at start.
        public var firstBackup: String
        let pgpass: String
    }

    private var starting: Task<Handle, any Error>?

    public func start() async throws -> Handle {
        if starting == nil { starting = Task { try await Self.boot() } }
        return try await starting!.value
    }

    private static func boot() async throws -> Handle {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/barman") else {
            throw FixtureError("barman is not installed: run scripts/install-deps.sh (barman)")
        }
        guard let pw = getpwnam("barman") else { throw FixtureError("there is no barman user (the barman package creates it)") }
        let (uid, gid) = (pw.pointee.pw_uid, pw.pointee.pw_gid)
        func handToBarman(_ path: String) throws {
            guard chown(path, uid, gid) == 0 else { throw FixtureError("cannot hand \(path) to barman") }
        }
        guard geteuid() == 0 else { throw FixtureError("the Barman server fixture runs as root (Barman switches to its barman user)") }

        let folder = TempFolder("bsrv")
        let production = try await BarmanProduction.boot(name: "bsrv", folder: folder, extra: [])
        let password = "bm-" + UUID().uuidString
        let role = "drill_barman"
        try await production.psql("CREATE ROLE \(role) LOGIN SUPERUSER REPLICATION PASSWORD '\(password)'")
        try await production.createLedger(database)

        let home = folder.sub("barman-home")
        let logs = folder.sub("barman-log")
        for dir in [home, logs] {
            try handToBarman(dir)
            chmod(dir, 0o700)
        }
        let pgpass = folder.file("pgpass")
        try "127.0.0.1:\(production.cluster.port):*:\(role):\(password)\n".write(toFile: pgpass, atomically: true, encoding: .utf8)
        chmod(pgpass, 0o600)
        try handToBarman(pgpass)
        let config = folder.file("barman.conf")
        let conninfo = "host=127.0.0.1 port=\(production.cluster.port) user=\(role)"
        try """
            [barman]
            barman_user = barman
            barman_home = \(home)
            log_file = \(logs)/barman.log
            log_level = INFO
            immediate_checkpoint = true

            [\(server)]
            description = drill test production
            conninfo = \(conninfo) dbname=postgres
            streaming_conninfo = \(conninfo)
            backup_method = postgres
            streaming_archiver = on
            slot_name = barman
            archiver = off

            """.write(toFile: config, atomically: true, encoding: .utf8)
        chmod(config, 0o644)
        var handle = Handle(production: production, config: config, barmanHome: home, firstBackup: "", pgpass: pgpass)

        // `barman check` creates the server's folders (wals/, base/, …); it fails until receive-wal runs.
        try await handle.barman(["check", server], mayFail: true)
        try await handle.barman(["receive-wal", "--create-slot", server])
        // receive-wal runs until the test process exits: its own session, so the exit handler stops it and its
        // pg_receivewal together.
        let log = folder.file("receive-wal.log")
        let child = try ChildProcess(ProcessSpec(executable: "/usr/bin/setsid",
                                                 arguments: ["/usr/bin/barman", "-c", config, "receive-wal", server],
                                                 environment: ["PGPASSFILE": pgpass], unsetEnvironment: ["PG*", "AWS_*"],
                                                 workingDirectory: "/", stdout: .file(log), stderr: .file(log)))
        ExitCleanup.register(pid: -child.pid, paths: [])
        let streaming = (home as NSString).appendingPathComponent("\(server)/streaming")
        try await BarmanProduction.waitUntil("barman receive-wal to stream", seconds: 60) {
            if !child.isRunning { throw FixtureError("barman receive-wal exited: \(String(decoding: FileManager.default.contents(atPath: log) ?? Data(), as: UTF8.self))") }
            return ((try? FileManager.default.contentsOfDirectory(atPath: streaming)) ?? []).contains { $0.hasSuffix(".partial") }
        }
        _ = try await handle.archiveWAL()
        try await production.insert(batch: "before-backup", rows: 200, into: database)
        try await handle.barman(["backup", "--wait", "--wait-timeout", "60", server])
        let list = try await handle.barman(["-f", "json", "list-backups", server])
        guard let first = try BarmanJSON.listBackups(list, server: server).first?.id else {
            throw FixtureError("barman list-backups shows no backup after barman backup: \(list)")
        }
        handle.firstBackup = first
        return handle
    }

    /// Closes the current WAL segment and waits until Barman has archived it (receive-wal streamed it, then
    /// `barman archive-wal`). Returns its name.
    @discardableResult
    public func archiveWAL() async throws -> String { try await start().archiveWAL() }

    /// Every file of barman_home with its SHA-256, except Barman's lock files (rewritten with the pid of every
    /// command that runs, drill's included) and the streaming folder (receive-wal's, always growing).
    public func homeListing() async throws -> [String] {
        let h = try await start()
        return try BarmanProduction.digests(under: h.barmanHome) { rel in
            (!rel.contains("/") && rel.hasPrefix(".") && rel.hasSuffix(".lock")) || rel.hasPrefix("\(Self.server)/streaming/")
        }
    }
}

extension BarmanServerSource.Handle {
    /// Runs `barman -c CONFIG <arguments>` as the fixture (with the .pgpass); throws on failure; returns stdout.
    @discardableResult
    func barman(_ arguments: [String], mayFail: Bool = false) async throws -> String {
        let r = try await ChildProcess.run(ProcessSpec(executable: "/usr/bin/barman", arguments: ["-c", config] + arguments,
                                                       environment: ["PGPASSFILE": pgpass], unsetEnvironment: ["PG*", "AWS_*"],
                                                       workingDirectory: "/", stdout: .capture(limit: 1 << 20),
                                                       stderr: .capture(limit: 1 << 20)))
        guard r.succeeded || mayFail else {
            throw FixtureError("barman \(arguments.joined(separator: " ")) failed (\(r.summary)): \(r.stdout.suffix(2000)) \(r.stderr.suffix(2000))")
        }
        return r.stdout
    }

    func archiveWAL() async throws -> String {
        let name = try await production.switchWAL()
        // A commit record opens the next segment at once, so pg_receivewal starts its .partial (an idle server
        // would write nothing until its next checkpoint or running-xacts record).
        try await production.psql("SELECT txid_current()")
        let streaming = (barmanHome as NSString).appendingPathComponent("\(BarmanServerSource.server)/streaming")
        let wals = (barmanHome as NSString).appendingPathComponent("\(BarmanServerSource.server)/wals/\(name.prefix(16))/\(name)")
        // archive-wal keeps the newest complete segment in streaming/ unless a newer .partial exists (pg_receivewal
        // needs one file there to find its position): wait for both.
        try await BarmanProduction.waitUntil("receive-wal to complete \(name)", seconds: 60) {
            let files = (try? FileManager.default.contentsOfDirectory(atPath: streaming)) ?? []
            return FileManager.default.fileExists(atPath: wals)
                || (files.contains(name) && files.contains { $0.hasSuffix(".partial") && $0 > name })
        }
        let out = try await barman(["archive-wal", BarmanServerSource.server])
        guard FileManager.default.fileExists(atPath: wals) else {
            let fm = FileManager.default
            let listing = (fm.enumerator(atPath: (barmanHome as NSString).appendingPathComponent(BarmanServerSource.server))?.allObjects as? [String]) ?? []
            throw FixtureError("barman archive-wal did not archive \(name): \(out); barman_home holds \(listing.sorted())")
        }
        return name
    }
}
