import Foundation

/// A backup as a store lists it.
public struct BackupObject: Sendable, Equatable {
    /// Where it is, for reports and messages: never with credentials.
    public var uri: String
    /// The file name, or the key's last part.
    public var name: String
    public var sizeBytes: Int64?
    public var modifiedAt: Date
    public var isDirectory: Bool
    /// Set when the backup is already on local disk (it is then restored in place).
    public var localPath: String?
    /// Store-specific address (an S3 key, a URL); opaque to the core.
    public var key: String

    public init(uri: String, name: String, sizeBytes: Int64?, modifiedAt: Date, isDirectory: Bool = false,
                localPath: String? = nil, key: String? = nil) {
        self.uri = uri
        self.name = name
        self.sizeBytes = sizeBytes
        self.modifiedAt = modifiedAt
        self.isDirectory = isDirectory
        self.localPath = localPath
        self.key = key ?? uri
    }
}

/// A backup made available on local disk for a restore.
public struct StagedBackup: Sendable, Equatable {
    public var path: String
    public var isDirectory: Bool
    public var sizeBytes: Int64
    /// Hex SHA-256 of the bytes (for a folder: of its file list and file digests, see docs/report-schema.md).
    public var sha256: String
    /// True when the staged copy is a temporary file the drill must delete.
    public var isTemporary: Bool

    public init(path: String, isDirectory: Bool, sizeBytes: Int64, sha256: String, isTemporary: Bool) {
        self.path = path
        self.isDirectory = isDirectory
        self.sizeBytes = sizeBytes
        self.sha256 = sha256
        self.isTemporary = isTemporary
    }
}

/// What a streamed transfer delivered.
public struct StreamReceipt: Sendable, Equatable {
    public var bytes: Int64
    public var sha256: String
    public init(bytes: Int64, sha256: String) {
        self.bytes = bytes
        self.sha256 = sha256
    }
}

/// Reports transfer progress (bytes done, total if known).
public typealias TransferProgress = @Sendable (_ done: Int64, _ total: Int64?) -> Void

/// Where backups live: a local folder, an S3-compatible bucket, an HTTP(S) URL. One implementation per URL scheme.
public protocol BackupStore: Sendable {
    /// Every backup under the location whose name matches `pattern` (nil: all). Order does not matter.
    func list(matching pattern: Glob?) async throws -> [BackupObject]
    /// The folders directly under the location (see the default implementation below).
    func listFolders(matching pattern: Glob?) async throws -> [BackupObject]
    /// The first `count` bytes of a file backup, for format detection, without fetching the rest.
    func head(_ object: BackupObject, count: Int) async throws -> [UInt8]
    /// Makes the backup available on local disk under `directory` (a private folder of the drill), or returns it in place.
    func stage(_ object: BackupObject, into directory: String, progress: TransferProgress?) async throws -> StagedBackup
    /// Writes the backup's bytes to `sink` as they arrive; returns size and digest. Closes nothing.
    func stream(_ object: BackupObject, to sink: FileHandle, progress: TransferProgress?) async throws -> StreamReceipt
    /// The same over several connections where the store serves byte ranges (`options`); in order, with the digest of
    /// the whole. By default: one connection.
    func stream(_ object: BackupObject, to sink: FileHandle, options: DownloadOptions, progress: TransferProgress?) async throws
        -> StreamReceipt
    /// The hex digest from a `<name>.sha256` sidecar (sha256sum format), or nil when there is none.
    func sidecarDigest(for object: BackupObject) async throws -> String?
}

extension BackupStore {
    public func stream(_ object: BackupObject, to sink: FileHandle, options: DownloadOptions, progress: TransferProgress?) async throws
        -> StreamReceipt {
        try await stream(object, to: sink, progress: progress)
    }

    /// The folders directly under the location (sub-prefixes on S3) whose name matches `pattern`: backups written as
    /// several files, such as a pg_basebackup. Their `modifiedAt` is their newest file's. `stage` of a folder makes the
    /// whole folder available locally. By default: the folders `list` returns.
    public func listFolders(matching pattern: Glob?) async throws -> [BackupObject] {
        try await list(matching: pattern).filter(\.isDirectory)
    }
}

/// Opens the store for a backup (or WAL) location: the registry from URL scheme to implementation.
public protocol BackupStoreFactory: Sendable {
    func store(location: String, endpoint: String?, region: String?) throws -> any BackupStore
}

extension Array where Element == BackupObject {
    /// The newest backup by modification time; ties go to the greater name, so the choice is stable.
    public func latest() -> BackupObject? {
        self.max { a, b in a.modifiedAt != b.modifiedAt ? a.modifiedAt < b.modifiedAt : a.name < b.name }
    }
}

/// Parses a sha256sum-format line (`<hex>  <name>`) or a bare hex digest.
public func parseSHA256Sidecar(_ text: String) -> String? {
    let first = text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }).first.map(String.init)
    guard let hex = first?.lowercased(), hex.count == 64, hex.allSatisfy({ $0.isHexDigit }) else { return nil }
    return hex
}
