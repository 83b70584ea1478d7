import DrillCore
import Foundation
import Logging

/// A private PostgreSQL cluster the drill starts itself: `initdb` into a 0700 temp folder, a server on a free loopback
/// port and a unix socket in a private folder. Teardown stops the server (immediate shutdown, then kill: the data is
/// thrown away), kills whatever else ran in the cluster's sandbox, and deletes every file it had.
///
/// The sandbox (docs/security.md), when drill is root: the server, `initdb` and whatever a method runs through
/// `runAs.wrap` run as a dedicated account leased to this cluster alone (`ScratchAccounts`), inside the cluster's own
/// cgroup (`ScratchCgroup`) when cgroups v2 are writable, with no way to gain privileges, and with an environment
/// built from an allow-list (locale, time zone, a fixed `PATH`, `HOME` = the cluster's folder): none of drill's
/// credentials. A watchdog (`ScratchWatchdog`) kills all of it if drill dies first, and the cluster is recorded in the
/// scratch root's `RunRegistry` until teardown, so that a later drill removes what a killed one left.
public final class EmbeddedCluster: @unchecked Sendable {
    public let binaries: PostgresBinaries
    /// The private folder holding `data/`, the server log and (when short enough) the socket folder.
    public let root: String
    public let dataDirectory: String
    public let socketDirectory: String
    public let port: Int
    public let superuser = "postgres"
    /// The account the server runs as (nil: drill's own, when drill is not root). It carries the cluster's cgroup, so
    /// whatever a method starts through `runAs.wrap` joins the sandbox.
    public let runAs: RunAs?
    public let settings: [(String, String)]
    /// The cgroup holding the cluster's processes, when cgroups v2 can be used.
    public let cgroup: ScratchCgroup?
    /// Whether the server also listens on 127.0.0.1 (only a `.fixed` cluster, which plays production in tests): a
    /// sandboxed one listens on its private socket only, so nothing on the host can reach it but root and its own
    /// account, and no other process can take its port between the choice and the bind.
    public internal(set) var listensOnTCP = true
    let lease: ScratchLease?
    let watchdog: ScratchWatchdog?
    let registry: RunRegistry?
    let registryID: String
    /// Variables the server gets beyond its allow-list, set before `launch`: what a method's `restore_command` needs
    /// (`PGBACKREST_*`, the AWS variables of `barman-cloud-wal-restore`), as the tool needs them. They reach the
    /// server's processes, and so whatever the restored cluster runs; nothing else of drill's environment does.
    public var serverEnvironment: [String: String] {
        get { lock.withLock { _serverEnvironment } }
        set { lock.withLock { _serverEnvironment = newValue } }
    }
    private var _serverEnvironment: [String: String] = [:]
    /// The name the cluster was created for (the drill's), as recorded in the registry.
    public internal(set) var drillName = ""
    private var server: ChildProcess?
    private let logger: Logger
    private let lock = NSLock()
    private var removed = false
    /// The template folder the data folder was copied from; nil when `initdb` made it.
    public private(set) var templateUsed: String?

    public var logFile: String { (root as NSString).appendingPathComponent("server.log") }

    /// Connection over the private unix socket (trust authentication; only the socket folder's owner, and root, can
    /// reach it), as `user` (the superuser unless told otherwise).
    public func connection(database: String = "postgres", user: String? = nil) -> ConnectionParameters {
        ConnectionParameters(["host": socketDirectory, "port": "\(port)", "user": user ?? superuser, "dbname": database,
                              "sslmode": "disable", "gssencmode": "disable", "connect_timeout": "10"], isolated: true)
    }

    init(binaries: PostgresBinaries, root: String, socketDirectory: String, port: Int, runAs: RunAs?,
         settings: [(String, String)], logger: Logger, cgroup: ScratchCgroup? = nil, lease: ScratchLease? = nil,
         watchdog: ScratchWatchdog? = nil, registry: RunRegistry? = nil, registryID: String = UUID().uuidString) {
        self.binaries = binaries
        self.root = root
        self.dataDirectory = (root as NSString).appendingPathComponent("data")
        self.socketDirectory = socketDirectory
        self.port = port
        self.runAs = runAs
        self.settings = settings
        self.logger = logger
        self.cgroup = cgroup
        self.lease = lease
        self.watchdog = watchdog
        self.registry = registry
        self.registryID = registryID
    }

    /// Creates, configures and starts a cluster under `scratchRoot`. On any failure, including cancellation, whatever
    /// was created is removed before the error is thrown.
    /// With a `template` cache, the data folder is a copy of a cached fresh `initdb` (made and saved on first use), and
    /// the copy gets a new random password once it runs; a template whose copy does not start is discarded and the
    /// cluster is made with `initdb` instead.
    public static func start(name: String, scratchRoot: String, binaries: PostgresBinaries, settings: [(String, String)],
                             template: InitdbTemplate? = nil, logger: Logger,
                             account: ServerAccount = .sandboxed) async throws -> EmbeddedCluster {
        // Leasing an account (creating it the first time) and removing dead runs' leftovers block: off the pool.
        let cluster = try await OffPool.run {
            try create(name: name, scratchRoot: scratchRoot, binaries: binaries, settings: settings, logger: logger, account: account)
        }
        do {
            let clock = ContinuousClock()
            let t0 = clock.now
            cluster.templateUsed = try await cluster.initialise(template: template)
            logger.debug("scratch data folder ready", metadata: ["from": "\(cluster.templateUsed ?? "initdb")",
                                                                 "elapsed": "\(t0.duration(to: clock.now))"])
            do {
                try await cluster.launch()
                logger.debug("scratch server accepting connections", metadata: ["elapsed": "\(t0.duration(to: clock.now))"])
                if cluster.templateUsed != nil { try cluster.setRandomPassword() }
            } catch let error where cluster.templateUsed != nil && !Task.isCancelled {
                logger.warning("a scratch cluster copied from the initdb template did not start (\(error)); discarding the template and running initdb")
                if let used = cluster.templateUsed { template?.discard(used) }
                let notes = cluster.stopServer()
                guard cluster.serverPID == nil else { throw DrillError(.provisionFailed, notes.joined(separator: "; ")) }
                try FileManager.default.removeItem(atPath: cluster.dataDirectory)
                cluster.templateUsed = try await cluster.initialise(template: template)
                try await cluster.launch()
            }
            return cluster
        } catch {
            _ = await cluster.teardown()
            throw error
        }
    }

    /// Who the server runs as.
    public enum ServerAccount: Sendable, Equatable {
        /// The sandbox: a dedicated account leased to this cluster (when drill is root), its own cgroup, a watchdog.
        case sandboxed
        /// A given account (nil: drill's own), no lease: for a cluster that plays production in tests, which runs as
        /// `postgres` as production does. Its processes are not swept (the account is not drill's).
        case fixed(RunAs?)
    }

    /// Creates the cluster's private folders (root, socket folder) and chooses a port, without `initdb` and without
    /// starting anything: the caller populates `dataDirectory` (e.g. from a base backup), then calls
    /// `writeConfiguration(to:extra:)` and `launch(readyWithin:)`. Call `teardown()` on every path afterwards.
    ///
    /// First removes what dead drills left under `scratchRoot` (`RunCleanup`), so every method that provisions does.
    public static func create(name: String, scratchRoot: String, binaries: PostgresBinaries, settings: [(String, String)],
                              logger: Logger, account: ServerAccount = .sandboxed) throws -> EmbeddedCluster {
        RunCleanup.cleanDeadRuns(scratchRoot: scratchRoot, logger: logger)
        let lease: ScratchLease?
        var runAs: RunAs?
        var cgroup: ScratchCgroup?
        switch account {
        case .sandboxed:
            lease = try ScratchAccounts.lease(logger: logger)
            runAs = lease?.account
            cgroup = ScratchCgroup.create(name: name)
            runAs?.cgroup = cgroup?.path
        case .fixed(let given):
            lease = nil
            runAs = given
        }
        var root: String?
        var socketDir: String?
        var watchdog: ScratchWatchdog?
        do {
            let made = try makePrivateDirectory(under: scratchRoot, prefix: "drill-\(name.prefix(24))-")
            root = made
            var socket = (made as NSString).appendingPathComponent("s")
            if (socket as NSString).length + 24 > 100 {
                socket = try makePrivateDirectory(under: "/tmp", prefix: "drill-s-")
            } else {
                try FileManager.default.createDirectory(atPath: socket, withIntermediateDirectories: false,
                                                        attributes: [.posixPermissions: 0o700])
            }
            socketDir = socket
            if case .sandboxed = account {
                watchdog = try ScratchWatchdog(account: runAs, cgroup: cgroup, lockFD: lease?.lockDescriptor ?? -1)
            }
            let cluster = EmbeddedCluster(binaries: binaries, root: made, socketDirectory: socket, port: try freePort(),
                                          runAs: runAs, settings: settings, logger: logger, cgroup: cgroup, lease: lease,
                                          watchdog: watchdog, registry: account == .sandboxed ? RunRegistry.at(scratchRoot) : nil)
            cluster.listensOnTCP = account != .sandboxed
            cluster.drillName = name
            if let runAs {
                try cluster.checkTraversable(made, by: runAs)
                try runAs.chown(made)
                try runAs.chown(socket)
            }
            cluster.registry?.add(cluster.registryItem())
            return cluster
        } catch {
            watchdog?.finish()
            if let root { try? FileManager.default.removeItem(atPath: root) }
            if let socketDir, let root, !socketDir.hasPrefix(root) { try? FileManager.default.removeItem(atPath: socketDir) }
            cgroup?.remove()
            lease?.release()
            throw error
        }
    }

    /// The cluster as the run registry records it.
    func registryItem(server: RunItem.Process? = nil) -> RunItem {
        RunItem(id: registryID, kind: .cluster, drill: drillName,
                paths: socketDirectory.hasPrefix(root) ? [root] : [root, socketDirectory],
                processes: server.map { [$0] } ?? [],
                account: runAs.map { RunItem.Account(user: $0.user, uid: $0.uid, gid: $0.gid, dedicated: $0.dedicated, slot: lease?.slot) },
                cgroup: cgroup?.path)
    }

    /// The environment of the server and `initdb`: an allow-list (locale, time zone), a fixed `PATH`, `HOME` in the
    /// cluster's folder. Nothing of drill's credentials or configuration.
    func serverSpec(_ executable: String, _ arguments: [String], stdout: ProcessSpec.Output = .capture(limit: 64 * 1024),
                    stderr: ProcessSpec.Output = .capture(limit: 64 * 1024), dieWithParent: Bool = true) -> ProcessSpec {
        let (exe, argv) = runAs?.wrap(executable, arguments, dieWithParent: dieWithParent) ?? (executable, arguments)
        let environment = ["PATH": ProcessSpec.safePath, "HOME": root].merging(serverEnvironment) { _, given in given }
        return ProcessSpec(executable: exe, arguments: argv, environment: environment,
                           workingDirectory: root, stdout: stdout, stderr: stderr, inherit: .only(ProcessSpec.localeAndZone),
                           dieWithParent: dieWithParent)
    }

    /// The `initdb` options that shape a scratch cluster (the template cache is keyed by them).
    static let initdbOptions = ["--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-locale",
                                "--no-sync", "--no-instructions"]

    /// Fills the data folder, from the template cache when it has a template (returns its folder), else with
    /// `initdb` (saving the result as the template), then writes the configuration.
    private func initialise(template: InitdbTemplate?) async throws -> String? {
        let options = ["-U", superuser] + Self.initdbOptions
        let folder = template?.folder(binaries: binaries, initdbArguments: options, runAs: runAs)
        if let template, let folder, await template.copy(from: folder, to: dataDirectory) {
            try Task.checkCancellation()
            if let runAs, runAs.dedicated { try Self.chownTree(dataDirectory, to: runAs) }
            try writeConfiguration(to: "postgresql.conf")
            return folder
        }
        // A random password for TCP connections; local socket connections use trust. The file is deleted at once.
        let pwfile = (root as NSString).appendingPathComponent(".pw")
        try AtomicFile.write(Data(Self.randomPassword().utf8), to: pwfile, mode: 0o600)
        if let runAs { try runAs.chown(pwfile) }
        defer { unlink(pwfile) }
        let r = await ChildProcess.runCancellable(serverSpec(binaries.path("initdb"), ["-D", dataDirectory, "--pwfile=\(pwfile)"] + options))
        try Task.checkCancellation()
        guard r.succeeded else {
            throw DrillError(.provisionFailed, "initdb failed (\(r.summary)): \(tail(r.stderr + r.stdout))")
        }
        if let template, let folder {
            await template.store(dataDirectory: dataDirectory, as: folder, postgres: binaries.path("postgres"))
        }
        try writeConfiguration(to: "postgresql.conf")
        return nil
    }

    static func randomPassword() -> String {
        String((0..<24).map { _ in "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789".randomElement()! })
    }

    /// Gives the superuser a new random, never-shown password (a copy of the template would otherwise share the
    /// template's). Only its SCRAM verifier, computed here by libpq, travels to the server.
    func setRandomPassword() throws {
        let admin = try PGConnection(connection())
        defer { admin.close() }
        guard let verifier = admin.encryptPassword(Self.randomPassword(), user: superuser) else {
            throw DrillError(.provisionFailed, "libpq could not compute a password verifier")
        }
        _ = try admin.execSync("ALTER ROLE \(PGConnection.quoteIdentifier(superuser)) PASSWORD \(PGConnection.quoteLiteral(verifier))")
    }

    /// Appends the scratch server's settings (private socket, port, logging) and the cluster's `settings`, then
    /// `extra`, to a configuration file in the data folder: later lines win. A physical restore writes them into
    /// `postgresql.auto.conf`, which overrides whatever the backed-up cluster had.
    /// The commands a restored configuration could run on the host are emptied (a physical backup brings
    /// production's `postgresql.conf`): `archive_command`, `recovery_end_command`, `archive_cleanup_command`,
    /// `ssl_passphrase_command`; a method that needs one sets it in `extra`.
    public func writeConfiguration(to fileName: String, extra: [(String, String)] = []) throws {
        var conf = "\n# drill scratch cluster\n"
        conf += ServerSettings.render([
            ("listen_addresses", listensOnTCP ? "127.0.0.1" : ""), ("port", "\(port)"), ("unix_socket_directories", socketDirectory),
            ("unix_socket_permissions", "0700"), ("logging_collector", "off"), ("log_min_messages", "warning"),
            ("dynamic_shared_memory_type", "posix"), ("lc_messages", "C"),
            ("archive_command", ""), ("recovery_end_command", ""), ("archive_cleanup_command", ""),
            ("ssl_passphrase_command", ""), ("ssl", "off"),
        ] + settings + extra)
        let confPath = (dataDirectory as NSString).appendingPathComponent(fileName)
        if !FileManager.default.fileExists(atPath: confPath) {
            _ = FileManager.default.createFile(atPath: confPath, contents: nil, attributes: [.posixPermissions: 0o600])
            if let runAs { try runAs.chown(confPath) }
        }
        guard let fh = FileHandle(forWritingAtPath: confPath) else { throw DrillError(.provisionFailed, "cannot open \(confPath)") }
        try fh.seekToEnd()
        try fh.write(contentsOf: Data(conf.utf8))
        try fh.close()
    }

    /// Starts `postgres` on the data folder and waits until it accepts connections: at most `readyWithin` seconds, or,
    /// when nil, as long as the server keeps running (a recovery can take hours). Throws when the server exits first.
    /// `settings` go on the server's command line (`-c name=value`), where no configuration file can override them.
    public func launch(readyWithin: Double? = 60, commandLine settings: [(String, String)] = []) async throws {
        let log = logFile
        _ = FileManager.default.createFile(atPath: log, contents: nil, attributes: [.posixPermissions: 0o600])
        if let runAs { try runAs.chown(log) }
        // The server never gets drill's credentials: its environment is an allow-list (a restored copy runs
        // production's roles: its superusers could read the environment with COPY ... FROM PROGRAM).
        // No parent-death signal on the server (a `--keep` cluster outlives drill): the watchdog stops it instead.
        let child = try ChildProcess(serverSpec(binaries.path("postgres"), ["-D", dataDirectory] + settings.flatMap { ["-c", "\($0.0)=\($0.1)"] }, stdout: .file(log),
                                                stderr: .file(log), dieWithParent: false))
        lock.withLock { server = child }
        watchdog?.watch(pid: child.pid)
        registry?.add(registryItem(server: RunItem.Process.of(child.pid)))
        let probe = connection()
        let deadline = readyWithin.map { Date().addingTimeInterval($0) } ?? .distantFuture
        while true {
            if PGConnection.ping(probe) { break }
            try Task.checkCancellation()
            if !child.isRunning {
                throw DrillError(.provisionFailed, "the scratch server exited during start-up: \(tail(readLog()))")
            }
            if Date() > deadline {
                throw DrillError(.provisionFailed, "the scratch server did not accept connections within \(Int(readyWithin ?? 0)) s: \(tail(readLog()))")
            }
            try await Task.sleep(for: .milliseconds(25))
        }
    }

    public func readLog() -> String {
        (FileManager.default.contents(atPath: logFile)).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    /// The server's process id while it runs.
    public var serverPID: Int32? { lock.withLock { server?.isRunning == true ? server?.pid : nil } }

    /// Stops the server if it runs. The data is thrown away, so no shutdown checkpoint is needed: SIGQUIT (immediate
    /// shutdown) first, which with fsync on saves the seconds a fast shutdown spends flushing; SIGKILL as the last
    /// resort. Returns what did not go to plan.
    func stopServer() -> [String] {
        guard let child = lock.withLock({ server }), child.isRunning else { return [] }
        var notes: [String] = []
        for (sig, wait) in [(SIGQUIT, 15.0), (SIGKILL, 5.0)] where child.isRunning {
            child.signal(sig)
            let deadline = Date().addingTimeInterval(wait)
            while child.isRunning && Date() < deadline { usleep(2_000) }
            if sig == SIGKILL && !child.isRunning { notes.append("the server needed SIGKILL to stop") }
        }
        if child.isRunning { notes.append("the scratch server (pid \(child.pid)) did not stop") }
        return notes
    }

    /// Stops the server, kills whatever else ran in the sandbox (every process of the dedicated account, every member
    /// of the cgroup: what a restore started and detached included), checks that none is left, and deletes the
    /// cluster's folders. Safe to call more than once and on a cancelled task.
    public func teardown() async -> TeardownResult {
        // Waiting for processes to end and deleting folders block: done on a thread of its own, off the concurrency
        // pool (drills running in parallel share its few threads).
        await OffPool.run { self.teardownNow() }
    }

    private func teardownNow() -> TeardownResult {
        var notes = stopServer()
        let child: ChildProcess? = lock.withLock { server }
        // What outlived the server (a program the restore started and detached), then the watchdog's sweep (the path a
        // dead drill takes too), then drill's own, which checks that nothing is left.
        let dedicated = runAs?.dedicated == true
        let outlived = Set((dedicated ? ProcessTable.live(uid: runAs!.uid).map(\.pid) : []) + (cgroup?.processes() ?? []))
            .subtracting([watchdog?.pid].compactMap { $0 })
        watchdog?.finish()
        var swept = ScratchSweep.Outcome(killed: 0, remaining: [])
        if let runAs, dedicated || cgroup != nil {
            swept = ScratchSweep.killAll(runAs, cgroup: cgroup)
            if !outlived.isEmpty {
                notes.append("\(outlived.count) process\(outlived.count == 1 ? "" : "es") of \(runAs.user) outlived the server (pid \(outlived.sorted().map(String.init).joined(separator: ", "))) and \(outlived.count == 1 ? "was" : "were") killed")
            }
            if !swept.remaining.isEmpty { notes.append("processes \(swept.remaining) of \(runAs.user) survive SIGKILL") }
        }
        if let cgroup, cgroup.exists, !cgroup.remove(within: 10) { notes.append("cannot remove the cgroup \(cgroup.path)") }
        let fm = FileManager.default
        for dir in [root, socketDirectory] where fm.fileExists(atPath: dir) {
            do { try fm.removeItem(atPath: dir) } catch { notes.append("cannot delete \(dir): \(error.localizedDescription)") }
        }
        let gone = !fm.fileExists(atPath: root) && !fm.fileExists(atPath: socketDirectory) && !(child?.isRunning ?? false)
            && swept.remaining.isEmpty
        if gone { registry?.remove(registryID) }
        if swept.remaining.isEmpty && !(child?.isRunning ?? false) { lease?.release() }
        lock.withLock { removed = gone }
        let sandbox = runAs.map { $0.dedicated ? "; no process of \($0.user) left" : "" } ?? ""
        return TeardownResult(removed: gone, detail: gone ? "server stopped; \(root) deleted\(sandbox)" + (notes.isEmpty ? "" : " (\(notes.joined(separator: "; ")))")
                                                     : notes.joined(separator: "; "))
    }

    /// Leaves the cluster running after drill exits (`drill run --keep`): the watchdog leaves, the registry forgets it
    /// (it is the user's now), and its account stays taken while the server runs.
    public func keepRunning() {
        watchdog?.keep()
        registry?.remove(registryID)
        if let pid = serverPID { lease?.keep(serverPID: pid) } else { lease?.release() }
    }

    /// Hands a folder and everything in it to `account` (a template copy made for another account of the pool).
    static func chownTree(_ path: String, to account: RunAs) throws {
        guard lchown(path, account.uid, account.gid) == 0 else {
            throw DrillError(.provisionFailed, "cannot hand \(path) to \(account.user): \(String(cString: strerror(errno)))")
        }
        var st = stat()
        guard lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else { return }
        for name in try FileManager.default.contentsOfDirectory(atPath: path) {
            try chownTree((path as NSString).appendingPathComponent(name), to: account)
        }
    }

    /// Every parent of `path` must be traversable by the server's user.
    private func checkTraversable(_ path: String, by user: RunAs) throws {
        var dir = (path as NSString).deletingLastPathComponent
        while dir != "/" && !dir.isEmpty {
            var st = stat()
            if stat(dir, &st) == 0 {
                let mode = st.st_mode
                let ok = (mode & 0o001) != 0 || (st.st_uid == user.uid && (mode & 0o100) != 0)
                    || (st.st_gid == user.gid && (mode & 0o010) != 0)
                if !ok {
                    throw DrillError(.provisionFailed,
                                     "\(dir) is not traversable by \(user.user), who runs the scratch server: choose another DRILL_SCRATCH_DIR (or TMPDIR)")
                }
            }
            dir = (dir as NSString).deletingLastPathComponent
        }
    }

    static func makePrivateDirectory(under parent: String, prefix: String) throws -> String {
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        var template = Array(((parent as NSString).appendingPathComponent(prefix + "XXXXXX")).utf8CString)
        guard let p = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw DrillError(.provisionFailed, "cannot create a private folder under \(parent): \(String(cString: strerror(errno)))")
        }
        chmod(p, 0o700)
        return String(cString: p)
    }

    /// A free TCP port on 127.0.0.1 (bound, read and released; the server binds it a moment later).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw DrillError(.provisionFailed, "cannot create a socket") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard ok else { throw DrillError(.provisionFailed, "cannot find a free loopback port") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}

func tail(_ s: String, lines: Int = 12) -> String {
    s.split(separator: "\n", omittingEmptySubsequences: true).suffix(lines).joined(separator: "\n")
}

extension ChildProcess {
    /// Runs a child to completion; a start failure becomes a result with exit status 127.
    static func runCancellable(_ spec: ProcessSpec) async -> ProcessResult {
        do { return try await ChildProcess(spec).wait() } catch {
            return ProcessResult(exitCode: 127, signal: nil, stdout: "", stderr: "\(error)")
        }
    }
}

/// Runs blocking work on a thread of its own and awaits it.
enum OffPool {
    static func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { (k: CheckedContinuation<T, Never>) in
            Thread { k.resume(returning: body()) }.start()
        }
    }

    static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (k: CheckedContinuation<T, any Error>) in
            Thread { k.resume(with: Result { try body() }) }.start()
        }
    }
}
