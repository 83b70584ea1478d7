/// How one backup file is downloaded from a store that serves byte ranges (S3, HTTP(S) with `Accept-Ranges`):
/// `connections` ranged GETs of `chunkBytes` each in flight at once, written in order (`backup.connections`,
/// `backup.chunk_mib`). Memory is bounded by `connections × chunkBytes` whatever the file's size. One connection (the
/// default), or a file no larger than one chunk, is fetched with a single GET.
///
/// One connection by default: measured on the physical bench (moto on loopback, 2 cores), more connections were never
/// faster (gzip and plain tar alike: one connection already delivered more than tar consumed, and each ranged GET cost
/// the server CPU the restore needed); they pay where one connection is slower than the restore, e.g. S3 at 50–100 MB/s
/// per connection feeding an uncompressed, lz4 or zstd archive (docs/performance.md).
public struct DownloadOptions: Sendable, Equatable {
    public var connections: Int
    public var chunkBytes: Int64

    public static let defaultConnections = 1
    public static let defaultChunkBytes: Int64 = 2 << 20
    /// A single connection: one GET per file, resumed with Range on a dropped connection.
    public static let single = DownloadOptions(connections: 1)

    public init(connections: Int = DownloadOptions.defaultConnections, chunkBytes: Int64 = DownloadOptions.defaultChunkBytes) {
        self.connections = max(1, connections)
        self.chunkBytes = max(1, chunkBytes)
    }

    /// The most memory the chunks waiting to be written can take.
    public var bufferBytes: Int64 { Int64(connections) * chunkBytes }

    /// Whether a file of `size` bytes is fetched in ranges (more than one chunk, more than one connection).
    public func usesRanges(size: Int64?) -> Bool {
        guard let size, connections > 1 else { return false }
        return size > chunkBytes
    }
}

/// The byte ranges of a file cut into chunks, in order; the last may be shorter.
public struct ChunkPlan: Sendable, Equatable {
    public var size: Int64
    public var chunkBytes: Int64

    public init(size: Int64, chunkBytes: Int64) {
        self.size = max(0, size)
        self.chunkBytes = max(1, chunkBytes)
    }

    public var count: Int { Int((size + chunkBytes - 1) / chunkBytes) }

    /// Chunk `index`: its first byte and its length.
    public func range(_ index: Int) -> (start: Int64, length: Int64) {
        let start = Int64(index) * chunkBytes
        return (start, min(chunkBytes, size - start))
    }

    /// The `Range` header value of chunk `index` from `done` bytes into it (a resumed chunk asks for the rest).
    public func rangeHeader(_ index: Int, from done: Int64 = 0) -> String {
        let (start, length) = range(index)
        return "bytes=\(start + done)-\(start + length - 1)"
    }

    /// Whether chunk `index` may be fetched while `head` is the chunk being written and `slots` chunks may wait in
    /// memory: the window that bounds memory (and, with one slot per connection, the connections in use).
    public static func mayStart(_ index: Int, head: Int, slots: Int) -> Bool {
        index < head + max(1, slots)
    }
}
