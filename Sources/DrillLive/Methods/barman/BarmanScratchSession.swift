import DrillCore
import Foundation
import Logging

/// A scratch cluster for a Barman drill: the physical session basebackup drills use (private data, WAL and socket
/// folders, drill's own recovery settings through `ClusterRecovery`), filled by a Barman tool instead of `tar`.
/// Subclasses add the tool's restore step.
public class BarmanScratchSession: BarmanScratch, @unchecked Sendable {
    let session: BaseBackupSession
    let logger: Logger

    init(session: BaseBackupSession, logger: Logger) {
        self.session = session
        self.logger = logger
    }

    /// Creates the scratch cluster's folders (the data folder empty, nothing started).
    static func makeSession(drill: DrillConfig, scratchRoot: String, memoryBytes: UInt64, logger: Logger) async throws -> BaseBackupSession {
        guard let binaries = await PostgresBinaries.discover() else {
            throw DrillError(.noPostgres,
                             "no PostgreSQL server binaries found (looked at $DRILL_PG_BINDIR, pg_config --bindir, PATH, /usr/lib/postgresql/*/bin); install the postgresql package")
        }
        let cluster = try EmbeddedCluster.create(name: drill.name, scratchRoot: scratchRoot, binaries: binaries,
                                                 settings: PhysicalSettings.forRecovery(profile: drill.restore.profile, memoryBytes: memoryBytes),
                                                 logger: logger)
        do {
            return try BaseBackupSession(cluster: cluster, database: drill.database ?? "postgres", logger: logger)
        } catch {
            _ = await cluster.teardown()
            throw error
        }
    }

    public var cluster: EmbeddedCluster { session.cluster }

    // MARK: ScratchDatabase

    public var kind: String { session.kind }
    public var database: String { session.database }
    public var connection: ConnectionParameters { session.connection }
    public var serverVersion: String { session.serverVersion }
    public var settings: [String: String] { session.settings }
    public func teardown() async -> TeardownResult { await session.teardown() }
    public var keepInstructions: String { session.keepInstructions }

    // MARK: BarmanScratch

    public var walDirectory: String { session.walDirectory }
    public func lastCommit(from: WALSegment, to: WALSegment) async -> Date? { await session.lastCommit(from: from, to: to) }
    public func recover(target: Date?) async throws -> RecoveryOutcome { try await session.recover(target: target) }

    // MARK: Helpers

    /// Hands the restored data folder to the server's user (when drill runs as root) and makes it 0700.
    func handOver() async throws {
        let data = cluster.dataDirectory
        if let runAs = cluster.runAs {
            let r = await ChildProcess.runCancellable(ProcessSpec(executable: cluster.binaries.tool("chown"),
                                                                  arguments: ["-R", "\(runAs.uid):\(runAs.gid)", "--", data]))
            try Task.checkCancellation()
            guard r.succeeded else {
                throw DrillError(.restoreFailed, "handing the restored data folder to \(runAs.user) failed (\(r.summary)): \(lastError(r.stderr))")
            }
        }
        chmod(data, 0o700)
    }

    /// Total bytes of the files under `path`.
    static func bytes(under path: String) -> Int64 {
        guard let e = FileManager.default.enumerator(atPath: path) else { return 0 }
        var total: Int64 = 0
        while e.nextObject() != nil {
            let attrs = e.fileAttributes
            if attrs?[.type] as? FileAttributeType == .typeRegular, let n = attrs?[.size] as? NSNumber { total += n.int64Value }
        }
        return total
    }
}

/// Finds a program in `PATH`.
enum ToolPath {
    static func find(_ name: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        for dir in (environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
            let p = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }
}
