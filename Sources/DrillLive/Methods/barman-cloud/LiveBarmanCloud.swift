import DrillCore
import Foundation
import Logging

/// The live `BarmanCloudTool`: runs Debian's barman-cli-cloud (3.4). The tools read the AWS credentials from drill's
/// environment, as drill's own S3 client does; the scratch server never gets them.
public struct LiveBarmanCloud: BarmanCloudTool {
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

    func executable(_ name: String) throws -> String {
        guard let p = ToolPath.find(name, environment: environment) else {
            throw DrillError(.unsupported, "\(name) is not installed (apt-get install barman-cli-cloud): a barman-cloud drill runs the barman-cloud tools")
        }
        return p
    }

    /// Where the credentials come from, for messages (never the secret).
    var credentialSource: String? { (try? AWSCredentials.resolve(environment: environment))?.description }

    func run(_ name: String, _ arguments: [String], _ s: BarmanCloudSettings, stdout: ProcessSpec.Output = .capture(limit: 8 << 20))
        async throws -> ProcessResult {
        let env = BarmanCloudInvocation.environment(s)
        // The tools read the AWS credentials as boto3 does; a child inherits none of drill's credentials unless named.
        var set = env.set
        for name in ProcessSpec.awsCredentialVariables { if let v = environment[name] { set[name] = v } }
        let spec = ProcessSpec(executable: try executable(name), arguments: arguments, environment: set,
                               unsetEnvironment: env.unset, workingDirectory: "/", stdout: stdout,
                               stderr: .capture(limit: 256 * 1024))
        logger.debug("running \(name)", metadata: ["command": "\(spec.commandLine)"])
        let r = await ChildProcess.runCancellable(spec)
        try Task.checkCancellation()
        return r
    }

    public func listBackups(_ s: BarmanCloudSettings) async throws -> (backups: [BarmanBackup], tool: String) {
        let tool = "barman-cloud-backup-list"
        async let version = run(tool, ["--version"], s)
        let r = try await run(tool, BarmanCloudInvocation.listBackups(s, environment: environment), s)
        guard r.succeeded else {
            throw BarmanCloudInvocation.failure(tool, s, exitCode: r.exitCode, stderr: r.stderr, credentials: credentialSource)
        }
        let backups: [BarmanBackup]
        do { backups = try BarmanCloudJSON.backupList(r.stdout) } catch {
            throw DrillError(.backupUnreadable, "cannot read the output of \(tool) for \(s.location) (server \(s.server)): \(error)")
        }
        let v = try? await version
        let text = ((v?.stdout ?? "") + (v?.stderr ?? "")).trimmingCharacters(in: .whitespacesAndNewlines)
        return (backups, text.isEmpty ? tool : text)
    }

    public func prepare(drill: DrillConfig, postgres: PostgresInstallation?) async throws -> any BarmanCloudScratch {
        let session = try await BaseBackupSession.create(drill: drill, profile: drill.restore.profile, postgres: postgres,
                                                         scratchRoot: scratchRoot, memoryBytes: memoryBytes, logger: logger)
        return LiveBarmanCloudScratch(session: session, tool: self)
    }
}

/// A scratch cluster filled by `barman-cloud-restore`.
final class LiveBarmanCloudScratch: ToolRestoredSession, BarmanCloudScratch, @unchecked Sendable {
    let tool: LiveBarmanCloud

    init(session: BaseBackupSession, tool: LiveBarmanCloud) {
        self.tool = tool
        super.init(session: session, logger: tool.logger)
    }

    func restore(_ s: BarmanCloudSettings, backup id: String) async throws -> BarmanRestoreOutcome {
        let data = cluster.dataDirectory
        let name = "barman-cloud-restore"
        let r = try await tool.run(name, BarmanCloudInvocation.restore(s, id: id, destination: data, environment: tool.environment), s)
        guard r.succeeded else {
            throw BarmanCloudInvocation.failure(name, s, exitCode: r.exitCode, stderr: r.stderr, credentials: tool.credentialSource)
        }
        guard FileManager.default.fileExists(atPath: (data as NSString).appendingPathComponent("PG_VERSION")) else {
            throw DrillError(.restoreFailed, "\(name) reported success but the data folder holds no PG_VERSION")
        }
        try await handOver()
        return BarmanRestoreOutcome(bytes: Self.bytes(under: data), walSegmentSize: try await cluster.walSegmentSize())
    }

    /// Plain and `.gz` files with drill's own S3 client, `.bz2` / `.snappy` ones with `barman-cloud-wal-restore`.
    func deliverWAL(_ files: [WALArchive.File], from store: any BackupStore, settings s: BarmanCloudSettings,
                    options: WALDeliveryOptions) async throws -> Int64 {
        try await deliver(files, options: options) { [self] file, incoming in
            if BarmanCloudWAL.needsTool(file) { return try await walRestore(s, walName: file.walName, into: incoming) }
            return try await importWAL(file, from: store, into: incoming)
        }
    }

    /// `barman-cloud-wal-restore` of one WAL file into `folder`; returns its bytes.
    private func walRestore(_ s: BarmanCloudSettings, walName: String, into folder: String) async throws -> Int64 {
        let dest = (folder as NSString).appendingPathComponent(walName)
        try? FileManager.default.removeItem(atPath: dest)
        let name = "barman-cloud-wal-restore"
        let r = try await tool.run(name, BarmanCloudInvocation.walRestore(s, walName: walName, destination: dest,
                                                                          environment: tool.environment), s)
        guard r.succeeded else {
            try? FileManager.default.removeItem(atPath: dest)
            if r.exitCode == 1 {
                throw DrillError(.walGap, "\(name) found no \(walName) in \(s.walPrefix), though the listing showed it")
            }
            throw BarmanCloudInvocation.failure(name, s, exitCode: r.exitCode, stderr: r.stderr, credentials: tool.credentialSource)
        }
        return ((try? FileManager.default.attributesOfItem(atPath: dest))?[.size] as? NSNumber)?.int64Value ?? 0
    }
}
