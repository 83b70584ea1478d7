import DrillCore
import Foundation
import Logging

/// The live `BarmanTool`: runs Debian's `barman` (3.4) on this host. Barman switches to its `barman_user` itself
/// when started as root; started as anyone else it must already be that user.
public struct LiveBarman: BarmanTool {
    public var scratchRoot: String
    public var logger: Logger
    public var memoryBytes: UInt64
    public var environment: [String: String]

    public init(scratchRoot: String, logger: Logger, memoryBytes: UInt64 = ProcessInfo.processInfo.physicalMemory,
                environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.scratchRoot = scratchRoot
        self.logger = logger
        self.memoryBytes = memoryBytes
        self.environment = environment
    }

    func executable() throws -> String {
        guard let p = ToolPath.find("barman", environment: environment) else {
            throw DrillError(.unsupported, "barman is not installed (apt-get install barman): a barman drill runs Barman's own commands")
        }
        return p
    }

    /// Runs `barman <arguments>`; returns the result (a non-zero exit is the caller's to interpret).
    func run(_ arguments: [String]) async throws -> ProcessResult {
        let binaries = await PostgresBinaries.discover(environment: environment)
        let env = BarmanInvocation.environment(path: environment["PATH"], postgresBin: binaries?.directory)
        let spec = ProcessSpec(executable: try executable(), arguments: arguments, environment: env.set,
                               unsetEnvironment: env.unset, workingDirectory: "/", stdout: .capture(limit: 8 << 20),
                               stderr: .capture(limit: 256 * 1024))
        logger.debug("running barman", metadata: ["command": "\(spec.commandLine)"])
        let r = await ChildProcess.runCancellable(spec)
        try Task.checkCancellation()
        return r
    }

    func runJSON(_ what: String, _ s: BarmanSettings, _ arguments: [String]) async throws -> String {
        let r = try await run(arguments)
        guard r.succeeded else {
            throw BarmanInvocation.failure(what, s, exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr)
        }
        return r.stdout
    }

    public func version(_ settings: BarmanSettings) async -> String? {
        guard let r = try? await run(["--version"]), r.succeeded else { return nil }
        // `3.4.0 Barman by EnterpriseDB (www.enterprisedb.com)`
        return r.stdout.split(separator: " ").first.map { "barman \($0)".trimmingCharacters(in: .whitespacesAndNewlines) }
    }

    public func listBackups(_ s: BarmanSettings) async throws -> [BarmanBackup] {
        let out = try await runJSON("barman list-backups", s, BarmanInvocation.listBackups(s))
        do { return try BarmanJSON.listBackups(out, server: s.server) } catch {
            throw DrillError(.backupUnreadable, "cannot read the output of barman list-backups \(s.server): \(error)")
        }
    }

    public func showBackup(_ s: BarmanSettings, id: String) async throws -> BarmanBackup {
        let out = try await runJSON("barman show-backup", s, BarmanInvocation.showBackup(s, id: id))
        do { return try BarmanJSON.showBackup(out, server: s.server) } catch {
            throw DrillError(.backupUnreadable, "cannot read the output of barman show-backup \(s.server) \(id): \(error)")
        }
    }

    public func checkBackup(_ s: BarmanSettings, id: String) async throws -> BarmanEvidence.Check {
        let r = try await run(BarmanInvocation.checkBackup(s, id: id))
        return BarmanInvocation.checkResult(exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr)
    }

    public func verifyBackup(_ s: BarmanSettings, id: String) async throws -> (check: BarmanEvidence.Check, available: Bool) {
        let r = try await run(BarmanInvocation.verifyBackup(s, id: id))
        return BarmanInvocation.verifyResult(exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr)
    }

    public func walFiles(_ s: BarmanSettings, id: String) async throws -> [BackupObject] {
        let out = try await runJSON("barman list-files", s, BarmanInvocation.walFiles(s, id: id))
        return BarmanJSON.messages(out).infos.map { path in
            let attrs = try? FileManager.default.attributesOfItem(atPath: path)
            return BackupObject(uri: path, name: (path as NSString).lastPathComponent,
                                sizeBytes: (attrs?[.size] as? NSNumber)?.int64Value,
                                modifiedAt: (attrs?[.modificationDate] as? Date) ?? .distantPast, localPath: path)
        }
    }

    public func prepare(drill: DrillConfig, postgres: PostgresInstallation?) async throws -> any BarmanServerScratch {
        let session = try await BaseBackupSession.create(drill: drill, profile: drill.restore.profile, postgres: postgres,
                                                         scratchRoot: scratchRoot, memoryBytes: memoryBytes, logger: logger)
        return LiveBarmanScratch(session: session, tool: self)
    }

    /// The account Barman runs as (`barman_user` of its configuration), when drill is root: the folder `barman recover`
    /// writes into is handed to it.
    func barmanUser(_ s: BarmanSettings) -> RunAs? {
        guard geteuid() == 0 else { return nil }
        let home = environment["HOME"] ?? NSHomeDirectory()
        let file = BarmanInvocation.configurationFile(s, home: home) { FileManager.default.fileExists(atPath: $0) }
        let text = file.flatMap { FileManager.default.contents(atPath: $0) }.map { String(decoding: $0, as: UTF8.self) } ?? ""
        let name = BarmanJSON.barmanUser(configuration: text)
        return RunAs.named(name)  // getpwnam_r: drills look accounts up concurrently
    }
}

/// A scratch cluster filled by `barman recover --get-wal`; drill copies the WAL from Barman's catalogue itself.
final class LiveBarmanScratch: ToolRestoredSession, BarmanServerScratch, @unchecked Sendable {
    let tool: LiveBarman
    private let lock = NSLock()
    private var stage: String?

    init(session: BaseBackupSession, tool: LiveBarman) {
        self.tool = tool
        super.init(session: session, logger: tool.logger)
    }

    /// Barman writes only where its user may: it recovers into a private folder of that user's beside the cluster,
    /// which is then moved into place and handed to the server's user.
    func restore(_ s: BarmanSettings, backup id: String) async throws -> BarmanRestoreOutcome {
        let fm = FileManager.default
        let stageDir = try EmbeddedCluster.makePrivateDirectory(under: (cluster.root as NSString).deletingLastPathComponent,
                                                                prefix: "drill-barman-")
        lock.withLock { stage = stageDir }
        defer {
            try? fm.removeItem(atPath: stageDir)
            lock.withLock { stage = nil }
        }
        if let user = tool.barmanUser(s) { try user.chown(stageDir) }
        let destination = (stageDir as NSString).appendingPathComponent("data")
        let r = try await tool.run(BarmanInvocation.recover(s, id: id, destination: destination))
        guard r.succeeded else {
            throw BarmanInvocation.failure("barman recover", s, exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr)
        }
        guard fm.fileExists(atPath: (destination as NSString).appendingPathComponent("PG_VERSION")) else {
            throw DrillError(.restoreFailed, "barman recover reported success but \(destination) holds no PG_VERSION: \(BarmanInvocation.lastLine(r.stdout))")
        }
        let data = cluster.dataDirectory
        try fm.removeItem(atPath: data)
        try fm.moveItem(atPath: destination, toPath: data)
        try await handOver()
        // No walk of the data folder for its size: nothing reads it (the report has Barman's size), and on a large
        // cluster it would lengthen the timed restore phase.
        return BarmanRestoreOutcome(bytes: nil, walSegmentSize: try await cluster.walSegmentSize())
    }

    /// Copies Barman's archived files (local paths from `barman list-files`), decompressing what Barman compressed.
    func deliverWAL(_ files: [WALArchive.File], options: WALDeliveryOptions) async throws -> Int64 {
        let local = LocalStore(location: "/")
        return try await deliver(files, options: options) { [self] file, incoming in
            guard let path = file.object.localPath, FileManager.default.fileExists(atPath: path) else {
                throw DrillError(.walGap, "\(file.walName) is in Barman's catalogue but its file \(file.object.uri) is gone")
            }
            return try await importWAL(file, from: local, into: incoming)
        }
    }

    override func teardown() async -> TeardownResult {
        if let s = lock.withLock({ stage }) { try? FileManager.default.removeItem(atPath: s) }
        return await super.teardown()
    }
}
