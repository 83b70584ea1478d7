import DrillCore
import Foundation

/// A store that downloads an object through an `ObjectFetcher` (S3, HTTP(S)): staging and streaming are the same
/// for all of them — bytes are hashed as they arrive and written to a private staging file or to the restore's pipe.
protocol FetchingStore: BackupStore {
    func fetcher(for object: BackupObject) -> ObjectFetcher
    /// Whether the object can be fetched in byte ranges (S3 always; an HTTP server that says `Accept-Ranges: bytes`).
    func servesRanges(_ object: BackupObject) async -> Bool
}

extension FetchingStore {
    public func stage(_ object: BackupObject, into directory: String, progress: TransferProgress?) async throws -> StagedBackup {
        try await stageFile(object, into: directory, progress: progress)
    }

    /// Downloads one object into a private staging file (what `stage` does unless a store overrides it).
    func stageFile(_ object: BackupObject, into directory: String, progress: TransferProgress?) async throws -> StagedBackup {
        let (path, fd) = try StagingFile.create(in: directory, name: object.name)
        do {
            defer { close(fd) }
            let (bytes, digest) = try await fetcher(for: object).download(
                into: DownloadSink(fd: fd, expectedSize: object.sizeBytes, progress: progress))
            return StagedBackup(path: path, isDirectory: false, sizeBytes: bytes, sha256: digest, isTemporary: true)
        } catch {
            unlink(path)
            throw error
        }
    }

    public func stream(_ object: BackupObject, to sink: FileHandle, progress: TransferProgress?) async throws -> StreamReceipt {
        let (bytes, digest) = try await fetcher(for: object).download(
            into: DownloadSink(fd: sink.fileDescriptor, expectedSize: object.sizeBytes, progress: progress))
        return StreamReceipt(bytes: bytes, sha256: digest)
    }

    /// Over several connections when the object is larger than one chunk and the store serves ranges
    /// (`RangedDownload`); else with one GET.
    public func stream(_ object: BackupObject, to sink: FileHandle, options: DownloadOptions, progress: TransferProgress?) async throws
        -> StreamReceipt {
        guard options.usesRanges(size: object.sizeBytes), let size = object.sizeBytes, await servesRanges(object) else {
            return try await stream(object, to: sink, progress: progress)
        }
        let (bytes, digest) = try await RangedDownload(fetcher: fetcher(for: object), size: size, options: options)
            .run(into: sink.fileDescriptor, progress: progress)
        return StreamReceipt(bytes: bytes, sha256: digest)
    }
}
