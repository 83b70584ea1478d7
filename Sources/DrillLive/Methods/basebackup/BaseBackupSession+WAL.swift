import DrillCore
import Foundation

/// WAL fetched while replay runs: the session's `WALPrefetcher` and the waiting `restore_command` it feeds.
extension BaseBackupSession {
    public var deliversDuringReplay: Bool { true }

    public func deliverWAL(_ files: [WALArchive.File], from store: any BackupStore, options: WALDeliveryOptions,
                           progress: TransferProgress?) async throws -> Int64 {
        let runAs = cluster.runAs
        let prefetcher = WALPrefetcher(
            directory: walDirectory, files: files, options: options, segmentSize: options.segmentSize,
            handOver: { path in try runAs?.chown(path) },
            fetch: { [self] file, incoming in try await importWAL(file, from: store, into: incoming) })
        return try await prefetcher.run(progress: progress)
    }
}
