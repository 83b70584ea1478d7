import DrillCore
import Foundation

/// WAL fetched while replay runs: the session's `WALPrefetcher` and the waiting `restore_command` it feeds.
extension BaseBackupSession {
    public var deliversDuringReplay: Bool { true }

    public func deliverWAL(_ files: [WALArchive.File], from store: any BackupStore, options: WALDeliveryOptions,
                           progress: TransferProgress?) async throws -> Int64 {
        try await deliver(files, options: options, progress: progress) { [self] file, incoming in
            try await importWAL(file, from: store, into: incoming)
        }
    }

    /// Delivers `files` (in replay order) into the WAL folder with a `WALPrefetcher`, each brought into its incoming
    /// folder by `fetch` (a store download, a local copy, a backup tool's WAL command).
    func deliver(_ files: [WALArchive.File], options: WALDeliveryOptions, progress: TransferProgress?,
                 fetch: @escaping WALPrefetcher.Fetch) async throws -> Int64 {
        let runAs = cluster.runAs
        let prefetcher = WALPrefetcher(directory: walDirectory, files: files, options: options, segmentSize: options.segmentSize,
                                       handOver: { path in try runAs?.chown(path) }, fetch: fetch)
        return try await prefetcher.run(progress: progress)
    }
}
