import CCurl
import DrillCore
import Foundation

/// Limits that bound one transfer.
public struct TransferLimits: Sendable {
    /// A transfer slower than `lowSpeedBytesPerSecond` for `lowSpeedSeconds` is abandoned (and retried).
    public var lowSpeedBytesPerSecond: Int
    public var lowSpeedSeconds: Int
    public var connectTimeoutSeconds: Int
    /// libcurl's receive buffer (`CURLOPT_BUFFERSIZE`).
    public var bufferSize: Int

    public init(lowSpeedBytesPerSecond: Int = 1024, lowSpeedSeconds: Int = 60, connectTimeoutSeconds: Int = 30,
                bufferSize: Int = 512 * 1024) {
        self.lowSpeedBytesPerSecond = lowSpeedBytesPerSecond
        self.lowSpeedSeconds = lowSpeedSeconds
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.bufferSize = bufferSize
    }
}

/// Sends HTTP requests with libcurl. Each blocking `curl_easy_perform` runs on a dedicated thread, off the Swift
/// cooperative pool; cancelling the awaiting task aborts the transfer.
public struct CurlTransport: Sendable {
    public var limits: TransferLimits
    /// A PEM file of CA certificates to verify TLS servers with, instead of the system's store.
    public var caBundle: String?

    public init(limits: TransferLimits = TransferLimits(), caBundle: String? = nil) {
        CurlGlobal.ensureInitialised()
        self.limits = limits
        self.caBundle = caBundle
    }

    /// A transport configured from the environment: `caBundleVariables` are read in order for a CA bundle path
    /// (e.g. `AWS_CA_BUNDLE`, `SSL_CERT_FILE`).
    public static func fromEnvironment(_ env: [String: String], caBundleVariables: [String]) -> CurlTransport {
        CurlTransport(caBundle: caBundleVariables.lazy.compactMap { env[$0] }.first { !$0.isEmpty })
    }

    /// Sends `request` and collects a 2xx body in memory, up to `limit` bytes (the transfer ends there, as a success).
    public func collect(_ request: HTTPRequest, limit: Int) async throws -> HTTPResponse {
        try await perform(request, collectLimit: limit, consumer: nil).response
    }

    /// Sends `request`; a 2xx body goes to `consumer` on the transfer thread as it arrives. Throws `TransportFailure`
    /// when no complete answer came (the response is then attached, for a resume).
    func perform(_ request: HTTPRequest, consumer: @escaping BodyConsumer) async throws -> (response: HTTPResponse, delivered: Int64) {
        try await perform(request, collectLimit: 0, consumer: consumer)
    }

    private func perform(_ request: HTTPRequest, collectLimit: Int, consumer: BodyConsumer?) async throws
        -> (response: HTTPResponse, delivered: Int64) {
        let flag = CancelFlag()
        let limits = self.limits, caBundle = self.caBundle
        nonisolated(unsafe) let consumer = consumer
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (k: CheckedContinuation<(HTTPResponse, Int64), any Error>) in
                let thread = Thread {
                    k.resume(with: Self.run(request, limits: limits, caBundle: caBundle, collectLimit: collectLimit, consumer: consumer, flag: flag))
                }
                thread.name = "drill-curl"
                thread.start()
            }
        } onCancel: {
            flag.set()
        }
    }

    /// The blocking part, on the transfer thread.
    private static func run(_ request: HTTPRequest, limits: TransferLimits, caBundle: String?, collectLimit: Int, consumer: BodyConsumer?,
                            flag: CancelFlag) -> Result<(HTTPResponse, Int64), any Error> {
        guard let h = curl_easy_init() else {
            return .failure(TransportFailure(kind: .permanent, curlCode: -1, message: "libcurl could not start a transfer"))
        }
        defer { curl_easy_cleanup(h) }
        let transfer = CurlTransfer(handle: h, consumer: consumer, collectLimit: collectLimit, cancelled: flag,
                                    upload: request.body ?? Data())
        let userdata = Unmanaged.passUnretained(transfer).toOpaque()
        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headerList) }
        for line in request.headers { headerList = curl_slist_append(headerList, line) }
        // Not `Expect:` to skip the 100-continue round trip: curl 7.88 signs that removed header as an empty one and
        // S3 answers SignatureDoesNotMatch. Its own `Expect: 100-continue` (bodies over 1 KiB) is left out of the signature.

        let code: CURLcode = errorBuffer.withUnsafeMutableBufferPointer { eb in
            _ = drill_curl_setopt_string(h, CURLOPT_URL, request.url)
            _ = drill_curl_setopt_long(h, CURLOPT_NOSIGNAL, 1)
            _ = drill_curl_setopt_pointer(h, CURLOPT_ERRORBUFFER, eb.baseAddress)
            _ = drill_curl_setopt_long(h, CURLOPT_BUFFERSIZE, limits.bufferSize)
            _ = drill_curl_setopt_long(h, CURLOPT_LOW_SPEED_LIMIT, limits.lowSpeedBytesPerSecond)
            _ = drill_curl_setopt_long(h, CURLOPT_LOW_SPEED_TIME, limits.lowSpeedSeconds)
            _ = drill_curl_setopt_long(h, CURLOPT_CONNECTTIMEOUT, limits.connectTimeoutSeconds)
            _ = drill_curl_setopt_long(h, CURLOPT_TCP_KEEPALIVE, 1)
            _ = drill_curl_setopt_string(h, CURLOPT_USERAGENT, "drill")
            if let caBundle { _ = drill_curl_setopt_string(h, CURLOPT_CAINFO, caBundle) }
            switch request.method {
            case .get: break
            case .head: _ = drill_curl_setopt_long(h, CURLOPT_NOBODY, 1)
            case .put:
                // An upload from memory through the read callback; SigV4 signs it as UNSIGNED-PAYLOAD like a GET.
                _ = drill_curl_setopt_long(h, CURLOPT_UPLOAD, 1)
                _ = drill_curl_setopt_offset(h, CURLOPT_INFILESIZE_LARGE, curl_off_t(transfer.upload.count))
                _ = drill_curl_setopt_write(h, CURLOPT_READFUNCTION, curlReadCallback)
                _ = drill_curl_setopt_pointer(h, CURLOPT_READDATA, userdata)
            case .delete: _ = drill_curl_setopt_string(h, CURLOPT_CUSTOMREQUEST, "DELETE")
            }
            if request.followRedirects {
                _ = drill_curl_setopt_long(h, CURLOPT_FOLLOWLOCATION, 1)
                _ = drill_curl_setopt_long(h, CURLOPT_MAXREDIRS, 5)
                _ = drill_curl_setopt_long(h, CURLOPT_UNRESTRICTED_AUTH, 0)
            }
            if let signing = request.signing {
                _ = drill_curl_setopt_string(h, CURLOPT_AWS_SIGV4, signing.provider)
                _ = drill_curl_setopt_string(h, CURLOPT_USERNAME, signing.credentials.accessKeyID)
                _ = drill_curl_setopt_string(h, CURLOPT_PASSWORD, signing.credentials.secretAccessKey)
            }
            _ = drill_curl_setopt_slist(h, CURLOPT_HTTPHEADER, headerList)
            _ = drill_curl_setopt_write(h, CURLOPT_WRITEFUNCTION, curlWriteCallback)
            _ = drill_curl_setopt_pointer(h, CURLOPT_WRITEDATA, userdata)
            _ = drill_curl_setopt_write(h, CURLOPT_HEADERFUNCTION, curlHeaderCallback)
            _ = drill_curl_setopt_pointer(h, CURLOPT_HEADERDATA, userdata)
            _ = drill_curl_setopt_long(h, CURLOPT_NOPROGRESS, 0)
            _ = drill_curl_setopt_xferinfo(h, curlXferInfoCallback)
            _ = drill_curl_setopt_pointer(h, CURLOPT_XFERINFODATA, userdata)
            return curl_easy_perform(h)
        }
        withExtendedLifetime(transfer) {}

        var status = 0
        _ = drill_curl_getinfo_long(h, CURLINFO_RESPONSE_CODE, &status)
        if status != 0 { transfer.status = status }
        let response = HTTPResponse(status: transfer.status, headers: transfer.headers, body: transfer.body)
        if code == CURLE_OK || (code == CURLE_WRITE_ERROR && transfer.consumerOutcome == BodyDisposition.enough) {
            return .success((response, transfer.bytesDelivered))
        }
        let message = errorBuffer.withUnsafeBufferPointer { p in String(cString: p.baseAddress!) }
        // libcurl's message may quote the URL (a malformed one, a redirect target): never with its credentials.
        let text = URLRedaction.redactURLs(in: message.isEmpty ? String(cString: curl_easy_strerror(code)) : message)
        let failure = TransportFailure(kind: classify(code, transfer: transfer), curlCode: Int(code.rawValue), message: text)
        return .failure(PartialTransfer(failure: failure, response: transfer.status == 0 ? nil : response,
                                        delivered: transfer.bytesDelivered))
    }

    private static func classify(_ code: CURLcode, transfer: CurlTransfer) -> TransportFailure.Kind {
        if transfer.cancelled.isSet || code == CURLE_ABORTED_BY_CALLBACK { return .cancelled }
        if code == CURLE_WRITE_ERROR, transfer.consumerOutcome == .failed { return .sinkFailed }
        switch code {
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY, CURLE_OPERATION_TIMEDOUT,
             CURLE_PARTIAL_FILE, CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_GOT_NOTHING, CURLE_HTTP2, CURLE_HTTP2_STREAM,
             CURLE_SSL_CONNECT_ERROR, CURLE_WEIRD_SERVER_REPLY, CURLE_BAD_CONTENT_ENCODING:
            return .transient
        default:
            return .permanent
        }
    }
}

/// A transfer that ended without a complete answer: how far it got.
struct PartialTransfer: Error, Sendable, CustomStringConvertible {
    var failure: TransportFailure
    var response: HTTPResponse?
    var delivered: Int64
    var description: String { failure.description }
}

/// One-time process setup for libcurl: global init, and SIGPIPE ignored so that a restore tool that exits early
/// makes a write fail with EPIPE instead of killing the process.
enum CurlGlobal {
    private static let once: Void = {
        curl_global_init(Int(CURL_GLOBAL_ALL))
        signal(SIGPIPE, SIG_IGN)
    }()

    static func ensureInitialised() { _ = once }
}
