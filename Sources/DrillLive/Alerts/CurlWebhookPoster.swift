import CCurl
import DrillCore
import Foundation

/// Posts alert bodies with libcurl: `Content-Type: application/json`, http(s) only, no redirects, response body
/// discarded. Runs the blocking transfer off Swift's cooperative pool. Errors never include the URL (webhook URLs
/// carry their secret in the path).
public struct CurlWebhookPoster: WebhookPoster {
    public init() {}

    public struct PostError: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    public func post(_ body: Data, to url: String, timeoutSeconds: Double) async throws {
        let result: Result<Void, PostError> = await withCheckedContinuation { cont in
            DispatchQueue.global().async {
                cont.resume(returning: Self.perform(body, url: url, timeoutMs: max(1, Int(timeoutSeconds * 1000))))
            }
        }
        try result.get()
    }

    static func perform(_ body: Data, url: String, timeoutMs: Int) -> Result<Void, PostError> {
        guard let h = curl_easy_init() else { return .failure(PostError(description: "cannot initialise libcurl")) }
        defer { curl_easy_cleanup(h) }
        var headers: UnsafeMutablePointer<curl_slist>? = curl_slist_append(nil, "Content-Type: application/json")
        headers = curl_slist_append(headers, "Expect:")
        defer { curl_slist_free_all(headers) }
        let text = String(decoding: body, as: UTF8.self)
        var rc = drill_curl_setopt_string(h, CURLOPT_URL, url)
        rc = rc == CURLE_OK ? drill_curl_setopt_string(h, CURLOPT_PROTOCOLS_STR, "http,https") : rc
        rc = rc == CURLE_OK ? drill_curl_setopt_long(h, CURLOPT_NOSIGNAL, 1) : rc
        rc = rc == CURLE_OK ? drill_curl_setopt_long(h, CURLOPT_TIMEOUT_MS, timeoutMs) : rc
        rc = rc == CURLE_OK ? drill_curl_setopt_long(h, CURLOPT_CONNECTTIMEOUT_MS, min(timeoutMs, 3_000)) : rc
        rc = rc == CURLE_OK ? drill_curl_setopt_slist(h, CURLOPT_HTTPHEADER, headers) : rc
        rc = rc == CURLE_OK ? drill_curl_setopt_long(h, CURLOPT_POSTFIELDSIZE, body.count) : rc
        rc = rc == CURLE_OK ? drill_curl_setopt_string(h, CURLOPT_COPYPOSTFIELDS, text) : rc
        rc = rc == CURLE_OK ? drill_curl_setopt_write(h, CURLOPT_WRITEFUNCTION, { _, size, n, _ in size * n }) : rc
        guard rc == CURLE_OK else { return .failure(PostError(description: "libcurl setup failed: \(String(cString: curl_easy_strerror(rc)))")) }
        let perform = curl_easy_perform(h)
        guard perform == CURLE_OK else {
            return .failure(PostError(description: "webhook request failed: \(String(cString: curl_easy_strerror(perform)))"))
        }
        var status = 0
        _ = drill_curl_getinfo_long(h, CURLINFO_RESPONSE_CODE, &status)
        guard (200..<300).contains(status) else { return .failure(PostError(description: "webhook answered HTTP \(status)")) }
        return .success(())
    }
}
