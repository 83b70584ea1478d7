import Foundation

/// One HTTP request as the transport sends it. The URL must already be encoded (for S3: AWS-URI-encoded path, sorted
/// query); it is never logged as is when it may carry credentials.
public struct HTTPRequest: Sendable {
    public enum Method: String, Sendable { case get = "GET", head = "HEAD", put = "PUT", delete = "DELETE" }

    public var method: Method
    public var url: String
    /// The body of a PUT (small: it is held in memory and sent again as a whole on a retry).
    public var body: Data?
    /// Extra header lines (`Name: value`).
    public var headers: [String]
    /// SigV4 signing (S3); nil for a plain or anonymous request.
    public var signing: SigV4Signing?
    public var followRedirects: Bool

    public init(method: Method = .get, url: String, body: Data? = nil, headers: [String] = [], signing: SigV4Signing? = nil,
                followRedirects: Bool = false) {
        self.method = method
        self.url = url
        self.body = body
        self.headers = headers
        self.signing = signing
        self.followRedirects = followRedirects
    }
}

/// What libcurl needs to sign a request with AWS Signature Version 4.
public struct SigV4Signing: Sendable, CustomStringConvertible {
    public var region: String
    public var service: String
    public var credentials: AWSCredentials

    public init(region: String, service: String = "s3", credentials: AWSCredentials) {
        self.region = region
        self.service = service
        self.credentials = credentials
    }

    /// The `CURLOPT_AWS_SIGV4` provider string.
    var provider: String { "aws:amz:\(region):\(service)" }

    public var description: String { "SigV4(\(region), \(service), \(credentials))" }
}

/// The status, headers and (for non-2xx answers, or when asked) a bounded copy of the body.
public struct HTTPResponse: Sendable {
    public var status: Int
    /// Header names lowercased; the last value wins.
    public var headers: [String: String]
    /// The body of an error answer (at most 64 KiB), or of a small answer collected in memory.
    public var body: Data

    public init(status: Int, headers: [String: String], body: Data) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public var isSuccess: Bool { (200..<300).contains(status) }

    /// The object's total size from `Content-Range: bytes a-b/total`, else `Content-Length` of a 200.
    public var totalSize: Int64? {
        if let range = headers["content-range"], let slash = range.lastIndex(of: "/") {
            return Int64(range[range.index(after: slash)...].trimmingCharacters(in: .whitespaces))
        }
        if status == 200, let length = headers["content-length"] { return Int64(length) }
        return nil
    }

    /// `Last-Modified` as a date (RFC 7231 IMF-fixdate).
    public var lastModified: Date? {
        headers["last-modified"].flatMap(HTTPDate.parse)
    }
}

/// A transfer that did not produce an HTTP answer, or was cut before the body ended.
public struct TransportFailure: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// Connection refused or dropped, timeout, stalled transfer, truncated body: worth another try.
        case transient
        /// The body consumer refused the bytes (e.g. the restore tool closed its input).
        case sinkFailed
        /// Malformed URL, TLS verification failure and the like: another try will not help.
        case permanent
        case cancelled
    }

    public var kind: Kind
    public var curlCode: Int
    /// libcurl's message; it never contains credentials (they are not part of the URL).
    public var message: String

    public var description: String { "\(message) (curl error \(curlCode))" }
}

/// Parses HTTP dates (`Sun, 06 Nov 1994 08:49:37 GMT`).
enum HTTPDate {
    static func parse(_ text: String) -> Date? {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "GMT")
        for format in ["EEE, dd MMM yyyy HH:mm:ss zzz", "EEEE, dd-MMM-yy HH:mm:ss zzz", "EEE MMM d HH:mm:ss yyyy"] {
            f.dateFormat = format
            if let d = f.date(from: text) { return d }
        }
        return nil
    }
}
