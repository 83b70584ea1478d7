import DrillCore
import Foundation
import Logging

/// The archive under an S3 prefix (`s3://bucket/prefix/`), with the same layout as a local folder, over the S3 store's
/// transport, credentials and location parsing.
///
/// `create` is a conditional PUT (`If-None-Match: *`): S3 answers 412 instead of replacing an existing key, so no
/// report or chain entry is ever overwritten. `withLock` creates a lock object `<prefix>.lock` the same way, waits
/// with backoff while another writer holds it, breaks it when it is older than `staleAfter` (a writer that died), and
/// deletes it afterwards (see `docs/archive.md` for the limits). Messages name the bucket and key, never a secret.
public struct S3ArchiveStorage: ArchiveStorage {
    /// The S3 client (transport, credentials, location); its prefix always ends with `/` (or is empty).
    public let store: S3Store
    /// How long `withLock` waits for another writer before it gives up.
    public var lockWait: Duration
    /// A lock object older than this (by S3's clock) was left by a writer that died, and is broken.
    public var staleAfter: Duration
    /// The local clock, used only when S3's answer carries no `Date` header to age a lock with.
    public var now: @Sendable () -> Date

    /// Objects larger than this are not archive files (reports are kilobytes): reading one is an error.
    static let readLimit = 64 << 20

    /// `location` is `s3://bucket/prefix/`; endpoint and region come from the environment (`AWS_ENDPOINT_URL_S3`,
    /// `AWS_ENDPOINT_URL`, `AWS_REGION`, `AWS_DEFAULT_REGION`), credentials as for S3 backups.
    public init(location: String, environment: [String: String] = ProcessInfo.processInfo.environment,
                transport: CurlTransport? = nil, retry: RetryPolicy = RetryPolicy(),
                lockWait: Duration = .seconds(120), staleAfter: Duration = .seconds(600),
                now: @escaping @Sendable () -> Date = { Date() },
                logger: Logger = Logger(label: "drill.archive.s3")) throws {
        var store = try S3Store(location: location, endpoint: nil, region: nil, environment: environment,
                                transport: transport, retry: retry, logger: logger)
        if !store.location.prefix.isEmpty, !store.location.prefix.hasSuffix("/") { store.location.prefix += "/" }
        self.store = store
        self.lockWait = lockWait
        self.staleAfter = staleAfter
        self.now = now
    }

    /// `s3://bucket/prefix/`.
    public var location: String { store.location.uri(key: store.location.prefix) }

    public func displayPath(_ path: String) -> String { location + path }

    /// Every object under the prefix, at any depth (ListObjectsV2 without a delimiter, page by page), as paths
    /// relative to it; names starting with `.` (the lock) are left out, as in a local folder.
    public func list() async throws -> [String] {
        let s3 = store.location
        var out: [String] = []
        var token: String?
        repeat {
            let response = try await store.send(url: s3.listURL(continuation: token, recursive: true), limit: 32 << 20,
                                                what: "list \(location)")
            guard response.isSuccess else { throw store.error(for: response, key: s3.prefix, listing: true) }
            let page: ListObjectsV2Page
            do {
                page = try ListObjectsV2Page.parse(response.body)
            } catch {
                throw DrillError(.storeUnavailable, "cannot read the listing of \(location): \(error)")
            }
            for entry in page.entries where entry.key.hasPrefix(s3.prefix) {
                let path = String(entry.key.dropFirst(s3.prefix.count))
                let parts = path.split(separator: "/", omittingEmptySubsequences: false)
                guard !path.isEmpty, !parts.contains(where: { $0.isEmpty || $0.hasPrefix(".") }) else { continue }
                out.append(path)
            }
            token = page.isTruncated ? page.nextContinuationToken : nil
            if page.isTruncated, token == nil {
                throw DrillError(.storeUnavailable, "the listing of \(location) is truncated but has no continuation token")
            }
        } while token != nil
        return out.sorted()
    }

    public func read(_ path: String) async throws -> Data {
        let key = store.location.prefix + path
        let response = try await store.send(url: store.location.objectURL(key: key), limit: Self.readLimit,
                                            what: "read \(store.location.uri(key: key))")
        guard response.isSuccess else { throw store.error(for: response, key: key) }
        guard response.body.count < Self.readLimit else {
            throw ArchiveError("\(store.location.uri(key: key)) is larger than \(Self.readLimit >> 20) MiB: not an archive file")
        }
        return response.body
    }

    /// A conditional PUT: S3 refuses it with 412 when the key exists, so nothing is ever overwritten.
    public func create(_ path: String, data: Data) async throws {
        let key = store.location.prefix + path
        switch try await putIfAbsent(key: key, data: data) {
        case .created:
            return
        case .exists:
            // A PUT retried after its first answer was lost finds its own object: the same bytes are not a conflict.
            if let existing = try? await read(path), existing == data { return }
            throw ArchiveError("\(store.location.uri(key: key)) already exists; the archive never overwrites a file")
        }
    }

    /// A DELETE: only for the files of an append that failed (see `ArchiveStorage.remove`).
    public func remove(_ path: String) async throws {
        try await delete(key: store.location.prefix + path)
    }

    enum PutOutcome { case created, exists }

    /// PUT with `If-None-Match: *`. 412 (the key exists) and 409 (a concurrent conditional write to the same key won)
    /// are `.exists`.
    func putIfAbsent(key: String, data: Data) async throws -> PutOutcome {
        let response = try await store.send(.put, url: store.location.objectURL(key: key), body: data, limit: 64 * 1024,
                                            headers: ["If-None-Match: *"],
                                            what: "write \(store.location.uri(key: key))")
        if response.isSuccess { return .created }
        if response.status == 412 || response.status == 409 { return .exists }
        throw store.error(for: response, key: key)
    }

    /// DELETE of one key; a key already gone is not an error.
    func delete(key: String) async throws {
        let response = try await store.send(.delete, url: store.location.objectURL(key: key), limit: 64 * 1024,
                                            what: "delete \(store.location.uri(key: key))")
        guard response.isSuccess || response.status == 404 else { throw store.error(for: response, key: key) }
    }
}
