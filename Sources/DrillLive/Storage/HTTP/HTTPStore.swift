import DrillCore
import Foundation
import Logging

/// One backup file at an `http://` or `https://` URL. `list` returns that one file (a HEAD request gives its size and
/// Last-Modified); its sidecar is the URL with `.sha256` appended to the path. Redirects are followed.
public struct HTTPStore: FetchingStore {
    public let url: URL
    public var transport: CurlTransport
    public var retry: RetryPolicy
    public var logger: Logger

    /// Without a `transport`, TLS servers are verified with `SSL_CERT_FILE` when set (else the system's CA store).
    public init(location: String, environment: [String: String] = ProcessInfo.processInfo.environment,
                transport: CurlTransport? = nil, retry: RetryPolicy = RetryPolicy(),
                logger: Logger = Logger(label: "drill.http")) throws {
        guard let url = URL(string: location), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              url.host != nil else {
            throw DrillError(.configuration, "backup.location is not a usable http(s) URL: \(Self.redact(location))")
        }
        self.url = url
        self.transport = transport ?? .fromEnvironment(environment, caBundleVariables: ["SSL_CERT_FILE"])
        self.retry = retry
        self.logger = logger
    }

    /// The URL for messages and reports: without user information and without the values of signature, credential
    /// and token parameters (`URLRedaction`).
    public var displayURL: String { Self.redact(url.absoluteString) }

    /// A HEAD request gives the size and `Last-Modified`. Servers that refuse HEAD (a pre-signed S3 URL is signed for
    /// GET only and answers 403; some answer 405 or 501) are asked for the first byte with a Range GET instead.
    public func list(matching pattern: Glob?) async throws -> [BackupObject] {
        var response = try await send(HTTPRequest(method: .head, url: url.absoluteString, followRedirects: true), limit: 0)
        var size = response.headers["content-length"].flatMap { Int64($0) }
        if [403, 405, 501].contains(response.status) {
            response = try await send(HTTPRequest(url: url.absoluteString, headers: ["Range: bytes=0-0"], followRedirects: true),
                                      limit: 1)
            size = response.totalSize
        }
        guard response.isSuccess else { throw error(for: response, display: displayURL) }
        let name = url.lastPathComponent.isEmpty || url.lastPathComponent == "/" ? (url.host ?? "backup") : url.lastPathComponent
        guard pattern?.matches(name) ?? true else { return [] }
        return [BackupObject(uri: displayURL, name: name, sizeBytes: size, modifiedAt: response.lastModified ?? .distantPast,
                             key: url.absoluteString)]
    }

    public func head(_ object: BackupObject, count: Int) async throws -> [UInt8] {
        let request = HTTPRequest(url: object.key, headers: ["Range: bytes=0-\(max(count, 1) - 1)"], followRedirects: true)
        let response = try await send(request, limit: count)
        if response.status == 416 { return [] }  // an empty file
        guard response.isSuccess else { throw error(for: response, display: object.uri) }
        return [UInt8](response.body.prefix(count))
    }

    public func sidecarDigest(for object: BackupObject) async throws -> String? {
        guard var parts = URLComponents(string: object.key) else { return nil }
        parts.percentEncodedPath += ".sha256"
        guard let sidecar = parts.url?.absoluteString else { return nil }
        let display = Self.redact(sidecar)
        let response = try await send(HTTPRequest(url: sidecar, followRedirects: true), limit: 64 * 1024)
        if response.status == 404 || response.status == 410 { return nil }
        if response.status == 401 || response.status == 403, parts.percentEncodedQuery != nil {
            // A pre-signed URL's signature covers the backup's path only: its sidecar cannot be reached this way.
            logger.warning("sidecar refused; treated as absent", metadata: ["url": "\(display)", "status": "\(response.status)"])
            return nil
        }
        guard response.isSuccess else { throw error(for: response, display: display) }
        guard let digest = parseSHA256Sidecar(String(decoding: response.body, as: UTF8.self)) else {
            throw DrillError(.digestMismatch, "\(display) is not in sha256sum format")
        }
        return digest
    }

    // MARK: - Requests

    private func send(_ request: HTTPRequest, limit: Int) async throws -> HTTPResponse {
        try await transport.collect(request, limit: limit, retry: retry, what: "reach \(displayURL)", logger: logger)
    }

    /// Whether the server says `Accept-Ranges: bytes` for the file (a HEAD request; a server that refuses HEAD, or
    /// a pre-signed URL signed for GET only, is fetched with one GET).
    func servesRanges(_ object: BackupObject) async -> Bool {
        guard let response = try? await send(HTTPRequest(method: .head, url: object.key, followRedirects: true), limit: 0),
              response.isSuccess else { return false }
        return response.headers["accept-ranges"]?.lowercased().contains("bytes") == true
    }

    func fetcher(for object: BackupObject) -> ObjectFetcher {
        let key = object.key, display = object.uri
        return ObjectFetcher(transport: transport, retry: retry, displayName: display,
                             request: { HTTPRequest(url: key, headers: $0, followRedirects: true) },
                             failure: { error(for: $0, display: display) }, logger: logger)
    }

    private func error(for response: HTTPResponse, display: String) -> DrillError {
        describe(response, display: display).redactingURLs()
    }

    private func describe(_ response: HTTPResponse, display: String) -> DrillError {
        switch response.status {
        case 404, 410: DrillError(.backupNotFound, "\(display) does not exist (HTTP \(response.status))")
        case 401, 403: DrillError(.storeDenied, "the server denied access to \(display) (HTTP \(response.status))")
        default: DrillError(.storeUnavailable, "the server answered HTTP \(response.status) for \(display)")
        }
    }

    /// Masks user information and secret query parameters (`URLRedaction.redact`).
    static func redact(_ location: String) -> String { URLRedaction.redact(location) }
}
