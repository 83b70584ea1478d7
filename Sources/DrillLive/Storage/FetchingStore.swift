import DrillCore
import Foundation

/// A store that downloads an object through an `ObjectFetcher` (S3, HTTP(S)): staging and streaming are the same
/// for all of them — bytes are hashed as they arrive and written to a private staging file or to the restore's pipe.
protocol FetchingStore: BackupStore {
    func fetcher(for object: BackupObject) -> ObjectFetcher
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
}
