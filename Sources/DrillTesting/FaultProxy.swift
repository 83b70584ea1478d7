import DrillLive
import Foundation

/// An HTTP proxy on 127.0.0.1 in front of moto or a static server that injects faults into GET requests whose path
/// contains `match`, one fault per request in order: `500` (a 500 answer), `403`, `404` (NoSuchKey: an object removed after it was listed), `503ra:S` (503 SlowDown with
/// `Retry-After: S`), `cut:N` (the body stops after N bytes and
/// the connection closes), `stall:N` (N bytes, then 30 s of silence; `stall:N:S` for S seconds), `drop` (connection closed before an answer), `ok`.
public final class FaultProxy: Sendable {
    private let process: FixtureProcess
    public var port: Int { process.port }
    public var endpoint: String { "http://127.0.0.1:\(process.port)" }

    /// `rejectHead`: every HEAD request gets 405 (a server that only answers GET).
    public init(upstreamPort: Int, match: String, faults: [String], rejectHead: Bool = false) async throws {
        process = try await FixtureProcess(["proxy", "--upstream", "127.0.0.1:\(upstreamPort)", "--match", match,
                                            "--faults", faults.joined(separator: ",")] + (rejectHead ? ["--reject-head"] : []))
        try await FixtureProcess.waitForPort(process.port)
    }

    /// One request the proxy saw.
    public struct Seen: Sendable, Equatable {
        public var method: String
        public var path: String
        public var range: String?
        public var fault: String
        /// The `X-Amz-Security-Token` header, if any.
        public var token: String?
        /// The SigV4 `SignedHeaders` list (`host;x-amz-content-sha256;…`), empty for an unsigned request.
        public var signedHeaders: String
    }

    /// The requests seen so far, in order.
    public func log() async throws -> [Seen] {
        let data = try await CurlTransport().collect(HTTPRequest(url: "\(endpoint)/__log"), limit: 1 << 20).body
        let items = (try JSONSerialization.jsonObject(with: data) as? [[String: Any]]) ?? []
        return items.map {
            Seen(method: $0["method"] as? String ?? "", path: $0["path"] as? String ?? "", range: $0["range"] as? String,
                 fault: $0["fault"] as? String ?? "",
                 token: $0["token"] as? String, signedHeaders: $0["signed"] as? String ?? "")
        }
    }

    public func stop() { process.stop() }
}

/// Static files over HTTP or HTTPS from a folder (http.server's handler: HEAD and GET; Range only with `ranges`).
public final class StaticHTTPServer: Sendable {
    private let process: FixtureProcess
    public var port: Int { process.port }
    public var baseURL: String { "\(scheme)://127.0.0.1:\(process.port)" }

    public let scheme: String

    /// `tls`: a certificate and key (PEM files) to serve HTTPS with. `ranges`: answer plain Range requests (206) and
    /// say `Accept-Ranges: bytes`.
    public init(directory: String, tls: (cert: String, key: String)? = nil, ranges: Bool = false) async throws {
        process = try await FixtureProcess(["http", "--directory", directory] + (tls.map { ["--cert", $0.cert, "--key", $0.key] } ?? [])
            + (ranges ? ["--ranges"] : []))
        scheme = tls == nil ? "http" : "https"
        try await FixtureProcess.waitForPort(process.port)
    }

    /// A self-signed certificate for 127.0.0.1 (and its key), made with the openssl command in `directory`.
    public static func selfSignedCertificate(in directory: String) async throws -> (cert: String, key: String) {
        let cert = (directory as NSString).appendingPathComponent("cert.pem")
        let key = (directory as NSString).appendingPathComponent("key.pem")
        let r = try await ChildProcess.run(ProcessSpec(executable: "/usr/bin/env", arguments: [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert,
        ]))
        guard r.succeeded else { throw FixtureError("openssl req failed: \(r.stderr)") }
        return (cert, key)
    }

    public func stop() { process.stop() }
}
