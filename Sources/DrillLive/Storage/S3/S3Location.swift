import DrillCore
import Foundation

/// An `s3://bucket/prefix` location with its endpoint and region, and the URLs of its requests.
///
/// With an endpoint (`backup.endpoint`, else `AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL`) requests use path-style
/// addressing (`endpoint/bucket/key`), as MinIO, Ceph and moto expect; without one, AWS virtual-hosted style
/// (`https://bucket.s3.region.amazonaws.com/key`), or path style for bucket names with dots.
public struct S3Location: Sendable, Equatable {
    public var bucket: String
    /// The key prefix (may be empty); `s3://b/backups/` gives `backups/`.
    public var prefix: String
    public var region: String
    /// Scheme and authority of the endpoint, no trailing slash (`http://127.0.0.1:9000`).
    public var endpoint: String
    public var pathStyle: Bool

    public init(location: String, endpoint: String?, region: String?,
                environment env: [String: String] = ProcessInfo.processInfo.environment) throws {
        guard location.lowercased().hasPrefix("s3://") else {
            throw DrillError(.configuration, "not an s3:// location: \(location)")
        }
        let rest = location.dropFirst("s3://".count)
        let bucket = String(rest.prefix { $0 != "/" })
        guard !bucket.isEmpty else { throw DrillError(.configuration, "backup.location \(location) names no bucket") }
        guard bucket.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-" || $0 == "." || $0 == "_" || $0.isUppercase) })
        else { throw DrillError(.configuration, "\"\(bucket)\" is not a valid S3 bucket name") }
        self.bucket = bucket
        var prefix = String(rest.dropFirst(bucket.count))
        if prefix.hasPrefix("/") { prefix.removeFirst() }
        self.prefix = prefix
        self.region = [region, env["AWS_REGION"], env["AWS_DEFAULT_REGION"]].compactMap { $0 }.first { !$0.isEmpty } ?? "us-east-1"
        let configured = [endpoint, env["AWS_ENDPOINT_URL_S3"], env["AWS_ENDPOINT_URL"]].compactMap { $0 }.first { !$0.isEmpty }
        if var e = configured {
            guard e.hasPrefix("http://") || e.hasPrefix("https://") else {
                throw DrillError(.configuration, "S3 endpoint must be an http:// or https:// URL")
            }
            while e.hasSuffix("/") { e.removeLast() }
            self.endpoint = e
            self.pathStyle = true
        } else {
            let dotted = bucket.contains(".")
            self.endpoint = dotted ? "https://s3.\(self.region).amazonaws.com" : "https://\(bucket).s3.\(self.region).amazonaws.com"
            self.pathStyle = dotted
        }
    }

    /// `s3://bucket/key`, for reports and messages.
    public func uri(key: String) -> String { "s3://\(bucket)/\(key)" }

    /// The URL of an object, its key AWS-encoded.
    func objectURL(key: String) -> String {
        bucketURL + "/" + AWSURIEncoding.encode(key, keepSlash: true)
    }

    /// The URL of a ListObjectsV2 page: the objects directly under the prefix (like a folder), or with
    /// `recursive` every object whose key starts with it.
    func listURL(continuation: String?, recursive: Bool = false) -> String {
        var q = ["list-type": "2"]
        if !recursive { q["delimiter"] = "/" }
        if !prefix.isEmpty { q["prefix"] = prefix }
        if let continuation { q["continuation-token"] = continuation }
        return bucketURL + (pathStyle ? "?" : "/?") + AWSURIEncoding.query(q)
    }

    private var bucketURL: String { pathStyle ? "\(endpoint)/\(AWSURIEncoding.encode(bucket, keepSlash: false))" : endpoint }
}
