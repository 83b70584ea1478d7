import DrillCore
import Foundation
import Logging

/// A scratch cluster whose data folder a backup tool fills (`pgbackrest restore`, `barman recover`,
/// `barman-cloud-restore`): the physical session basebackup drills use (private data, WAL and socket folders, drill's
/// waiting `restore_command` fed by a `WALPrefetcher` while the server replays, drill's recovery settings through
/// `ClusterRecovery`, also on the server's command line since the tool restored production's `postgresql.conf`).
/// Subclasses add the tool's restore step and how it fetches one WAL file.
public class ToolRestoredSession: WALReplaySession, @unchecked Sendable {
    let session: BaseBackupSession
    let logger: Logger

    init(session: BaseBackupSession, logger: Logger) {
        self.session = session
        self.logger = logger
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

    // MARK: WALReplaySession

    public var walDirectory: String { session.walDirectory }
    public var deliversDuringReplay: Bool { true }
    public func lastCommit(from: WALSegment, to: WALSegment) async -> Date? { await session.lastCommit(from: from, to: to) }
    public func recover(target: Date?) async throws -> RecoveryOutcome { try await recover(target: target, progress: nil) }
    public func recover(target: Date?, progress: TransferProgress?) async throws -> RecoveryOutcome {
        try await session.recover(target: target, progress: progress, commandLine: true)
    }

    /// Settings on the restored server's command line, where production's `postgresql.conf` (restored with the backup,
    /// and whatever it includes) cannot override them: its own data folder (a `data_directory` line in production's
    /// file would point at production's), port, socket and no TCP, no archiving, and drill's private pg_hba/ident.
    public static func commandLine(_ cluster: EmbeddedCluster, configured: [(String, String)]) -> [(String, String)] {
        var s: [(String, String)] = [
            ("data_directory", cluster.dataDirectory), ("port", "\(cluster.port)"), ("unix_socket_directories", cluster.socketDirectory),
            ("listen_addresses", ""), ("archive_mode", "off"), ("archive_command", ""),
        ]
        s += configured.filter { $0.0 == "hba_file" || $0.0 == "ident_file" }
        return s
    }

    /// Delivers `files` into the WAL folder while the server replays, each brought into the prefetcher's incoming
    /// folder by `fetch`.
    func deliver(_ files: [WALArchive.File], options: WALDeliveryOptions, fetch: @escaping WALPrefetcher.Fetch) async throws -> Int64 {
        try await session.deliver(files, options: options, progress: nil, fetch: fetch)
    }

    /// Copies an archived WAL file from a local path or `store` (decompressing gzip or bzip2) into `folder`.
    func importWAL(_ file: WALArchive.File, from store: any BackupStore, into folder: String) async throws -> Int64 {
        try await session.importWAL(file, from: store, into: folder)
    }

    // MARK: Helpers

    /// Hands the restored data folder (and `extra` folders) to the server's user (when drill runs as root) and makes
    /// it 0700.
    func handOver(_ extra: [String] = []) async throws {
        let data = cluster.dataDirectory
        if let runAs = cluster.runAs {
            for dir in [data] + extra {
                let r = await ChildProcess.runCancellable(ProcessSpec(executable: cluster.binaries.tool("chown"),
                                                                      arguments: ["-R", "\(runAs.uid):\(runAs.gid)", "--", dir]))
                try Task.checkCancellation()
                guard r.succeeded else {
                    throw DrillError(.restoreFailed, "handing the restored data folder to \(runAs.user) failed (\(r.summary)): \(lastError(r.stderr))")
                }
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
