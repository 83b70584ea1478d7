import DrillCore
import Foundation
import Logging

/// Downloads one object (S3 or HTTP) into a `DownloadSink`, retrying dropped connections and server errors with
/// backoff and resuming with a Range request from the last byte written. 4xx answers are not retried.
struct ObjectFetcher: Sendable {
    var transport: CurlTransport
    var retry: RetryPolicy
    /// The object as messages name it (`s3://bucket/key`, a URL without credentials).
    var displayName: String
    /// The request for the object; `headers` are added (Range, If-Match).
    var request: @Sendable (_ headers: [String]) -> HTTPRequest
    /// The error for a non-2xx answer that is not retried.
    var failure: @Sendable (HTTPResponse) -> DrillError
    var logger: Logger

    /// Returns the bytes written and their SHA-256.
    func download(into sink: DownloadSink) async throws -> (bytes: Int64, sha256: String) {
        do {
            return try await attempts(into: sink)
        } catch let error as DrillError {
            throw error.redactingURLs()  // a last line: `displayName` is already redacted by the stores
        }
    }

    private func attempts(into sink: DownloadSink) async throws -> (bytes: Int64, sha256: String) {
        let displayName = URLRedaction.redactURLs(in: self.displayName)
        var attempt = 0
        var lastProblem = ""
        var lastResponse: HTTPResponse?
        while true {
            try Task.checkCancellation()
            attempt += 1
            var headers: [String] = []
            if let range = sink.range {
                headers.append("Range: \(range)")
                if let tag = sink.entityTag { headers.append("If-Match: \(tag)") }
            }
            let before = sink.written
            lastResponse = nil
            sink.beginAttempt()
            do {
                let (response, _) = try await transport.perform(request(headers)) { status, headers, bytes in
                    sink.consume(status: status, headers: headers, bytes: bytes)
                }
                if response.isSuccess {
                    if let expected = sink.expected, sink.written < expected {
                        lastProblem = "the answer ended after \(sink.written) of \(expected) bytes"
                    } else {
                        return (sink.written, sink.finish())
                    }
                } else if response.status == 416, let expected = sink.expected, sink.written == expected {
                    return (sink.written, sink.finish())
                } else if response.status == 412, sink.entityTag != nil {
                    throw DrillError(.backupUnreadable, "\(displayName) was replaced during the download (its ETag changed)")
                } else if RetryPolicy.isRetryable(status: response.status) {
                    lastProblem = "HTTP \(response.status)"
                    lastResponse = response
                } else {
                    throw failure(response)
                }
            } catch let partial as PartialTransfer {
                switch partial.failure.kind {
                case .cancelled:
                    throw CancellationError()
                case .sinkFailed:
                    if let mismatch = sink.mismatch {
                        throw DrillError(.backupUnreadable, "cannot resume \(displayName): \(mismatch)")
                    }
                    // Not a DrillError: when the restore tool stopped reading, its own failure explains more (the
                    // streamed restore lets the tool's result win over a producer error of another type).
                    let reason = String(cString: strerror(sink.writeError))
                    throw DrillLiveError.io("writing \(displayName) failed after \(sink.written) bytes: \(reason)")
                case .permanent:
                    throw DrillError(.storeUnavailable, "cannot fetch \(displayName): \(partial.failure.message)")
                case .transient:
                    if let response = partial.response, !response.isSuccess, !RetryPolicy.isRetryable(status: response.status) {
                        throw failure(response)
                    }
                    lastProblem = partial.failure.message
                }
            }
            if sink.written > before { attempt = 1 }
            guard attempt < retry.maxAttempts else {
                throw DrillError(.storeUnavailable, "cannot fetch \(displayName) after \(retry.maxAttempts) tries: \(lastProblem)")
            }
            let pause = retry.delay(afterAttempt: attempt, response: lastResponse)
            logger.warning("retrying a download", metadata: [
                "object": "\(displayName)", "problem": "\(lastProblem)", "offset": "\(sink.written)", "pause": "\(pause)",
            ])
            try await Task.sleep(for: pause)
        }
    }
}
