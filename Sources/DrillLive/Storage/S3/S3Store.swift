import DrillCore
import Foundation
import Logging

/// Backups in an S3-compatible bucket (`s3://bucket/prefix/`), over libcurl with SigV4 signing.
///
/// `list` pages through ListObjectsV2 (objects directly under the prefix, like a folder); downloads hash the bytes as
/// they arrive, retry with backoff and resume with Range requests. Messages name the bucket and key, never a secret.
public struct S3Store: FetchingStore {
    public var location: S3Location
    public let credentials: AWSCredentials?
    public var transport: CurlTransport
    public var retry: RetryPolicy
    public var logger: Logger

    /// Resolves credentials from the environment and the shared credentials file (see `AWSCredentials.resolve`).
    /// Without a `transport`, TLS servers are verified with `AWS_CA_BUNDLE` or `SSL_CERT_FILE` when set.
    public init(location: String, endpoint: String?, region: String?,
                environment: [String: String] = ProcessInfo.processInfo.environment,
                transport: CurlTransport? = nil, retry: RetryPolicy = RetryPolicy(),
                logger: Logger = Logger(label: "drill.s3")) throws {
        self.location = try S3Location(location: location, endpoint: endpoint, region: region, environment: environment)
        self.credentials = try AWSCredentials.resolve(environment: environment)
        self.transport = transport ?? .fromEnvironment(environment, caBundleVariables: ["AWS_CA_BUNDLE", "SSL_CERT_FILE"])
        self.retry = retry
        self.logger = logger
    }

    public func list(matching pattern: Glob?) async throws -> [BackupObject] {
        var out: [BackupObject] = []
        var token: String?
        var pages = 0
        repeat {
            let response = try await send(url: location.listURL(continuation: token), limit: 32 << 20,
                                          what: "list \(location.uri(key: location.prefix))")
            guard response.isSuccess else { throw error(for: response, key: location.prefix, listing: true) }
            let page: ListObjectsV2Page
            do {
                page = try ListObjectsV2Page.parse(response.body)
            } catch {
                throw DrillError(.storeUnavailable, "cannot read the listing of \(location.uri(key: location.prefix)): \(error)")
            }
            pages += 1
            for entry in page.entries {
                let name = String(entry.key.split(separator: "/", omittingEmptySubsequences: false).last ?? "")
                guard !name.isEmpty, pattern?.matches(name) ?? true else { continue }
                out.append(BackupObject(uri: URLRedaction.redact(location.uri(key: entry.key)), name: name, sizeBytes: entry.size,
                                        modifiedAt: entry.lastModified ?? .distantPast, key: entry.key))
            }
            token = page.isTruncated ? page.nextContinuationToken : nil
            if page.isTruncated, token == nil {
                throw DrillError(.storeUnavailable, "the listing of \(location.uri(key: location.prefix)) is truncated but has no continuation token")
            }
        } while token != nil
        logger.debug("listed", metadata: ["prefix": "\(location.uri(key: location.prefix))", "pages": "\(pages)",
                                          "matching": "\(out.count)"])
        return out
    }

    /// The first bytes of an object; for a folder (a directory-format dump), of its `toc.dat` (empty when it has none).
    public func head(_ object: BackupObject, count: Int) async throws -> [UInt8] {
        if object.isDirectory {
            let key = (object.key.hasSuffix("/") ? object.key : object.key + "/") + "toc.dat"
            let response = try await send(url: location.objectURL(key: key), limit: count,
                                          headers: ["Range: bytes=0-\(max(count, 1) - 1)"], what: "read \(location.uri(key: key))")
            if response.status == 404 || response.status == 416 { return [] }
            guard response.isSuccess else { throw error(for: response, key: key) }
            return [UInt8](response.body.prefix(count))
        }
        let response = try await send(url: location.objectURL(key: object.key), limit: count,
                                      headers: ["Range: bytes=0-\(max(count, 1) - 1)"], what: "read \(object.uri)")
        if response.status == 416 { return [] }  // an empty object
        guard response.isSuccess else { throw error(for: response, key: object.key) }
        return [UInt8](response.body.prefix(count))
    }

    public func sidecarDigest(for object: BackupObject) async throws -> String? {
        let key = object.key + ".sha256"
        let response = try await send(url: location.objectURL(key: key), limit: 64 * 1024, what: "read \(location.uri(key: key))")
        if response.status == 404 { return nil }
        guard response.isSuccess else { throw error(for: response, key: key) }
        guard let digest = parseSHA256Sidecar(String(decoding: response.body, as: UTF8.self)) else {
            throw DrillError(.digestMismatch, "\(location.uri(key: key)) is not in sha256sum format")
        }
        return digest
    }

    // MARK: - Requests

    /// A signed request (payload `UNSIGNED-PAYLOAD`, as S3 accepts over any transport).
    func request(_ method: HTTPRequest.Method = .get, url: String, body: Data? = nil, headers: [String] = []) -> HTTPRequest {
        var h = headers + ["x-amz-content-sha256: UNSIGNED-PAYLOAD"]
        if let token = credentials?.sessionToken { h.append("X-Amz-Security-Token: \(token)") }
        return HTTPRequest(method: method, url: url, body: body, headers: h,
                           signing: credentials.map { SigV4Signing(region: location.region, credentials: $0) })
    }

    /// A small request whose answer is collected in memory, retried on connection failures and 5xx answers.
    func send(_ method: HTTPRequest.Method = .get, url: String, body: Data? = nil, limit: Int, headers: [String] = [],
              what: String) async throws -> HTTPResponse {
        try await transport.collect(request(method, url: url, body: body, headers: headers), limit: limit, retry: retry,
                                    what: "\(what) at \(location.endpoint)", logger: logger)
    }

    /// S3 serves byte ranges of every object.
    func servesRanges(_ object: BackupObject) async -> Bool { !object.isDirectory }

    func fetcher(for object: BackupObject) -> ObjectFetcher {
        let url = location.objectURL(key: object.key)
        let store = self
        return ObjectFetcher(transport: transport, retry: retry, displayName: object.uri,
                             request: { headers in store.request(url: url, headers: headers) },
                             failure: { store.error(for: $0, key: object.key) }, logger: logger)
    }

    /// A clear error for a non-2xx answer: names bucket and key and where the credentials came from, never the secret
    /// (and no URL with credentials: an endpoint's user information is redacted).
    func error(for response: HTTPResponse, key: String, listing: Bool = false) -> DrillError {
        describe(response, key: key, listing: listing).redactingURLs()
    }

    private func describe(_ response: HTTPResponse, key: String, listing: Bool) -> DrillError {
        let doc = S3ErrorDocument.parse(response.body)
        let target = listing ? "the listing of \(location.uri(key: key))" : location.uri(key: key)
        let detail = [doc.code, doc.message].compactMap { $0 }.joined(separator: ": ")
        let why = detail.isEmpty ? "HTTP \(response.status)" : "HTTP \(response.status), \(detail)"
        let creds = credentials.map { "\($0)" } ?? "no credentials (unsigned request; set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE)"
        switch (response.status, doc.code) {
        case (404, "NoSuchBucket"):
            return DrillError(.backupNotFound, "bucket \"\(location.bucket)\" does not exist at \(location.endpoint) (\(why))")
        case (404, _):
            return DrillError(.backupNotFound, "\(target) does not exist (\(why))")
        case (301, _), (307, _), (400, "AuthorizationHeaderMalformed"), (400, "IllegalLocationConstraintException"):
            let region = response.headers["x-amz-bucket-region"].map { "; the bucket is in \($0): set backup.region" } ?? ""
            return DrillError(.storeDenied, "S3 refused \(target) in region \(location.region) (\(why))\(region)")
        case (401, _), (403, _), (400, "InvalidAccessKeyId"), (400, "SignatureDoesNotMatch"), (400, "InvalidToken"),
             (400, "ExpiredToken"):
            return DrillError(.storeDenied, "S3 denied access to \(target) (\(why)); \(creds)")
        default:
            return DrillError(.storeUnavailable, "S3 answered \(why) for \(target)")
        }
    }
}
