import DrillCore
import Foundation
import Logging

extension CurlTransport {
    /// Sends a small request (a listing, a sidecar, the first bytes of a file) and collects its answer in memory,
    /// trying again with backoff on connection failures and 5xx/429/408 answers. Other answers are returned as they
    /// are, for the store to interpret. `what` names the request in messages (never with credentials).
    func collect(_ request: @autoclosure () -> HTTPRequest, limit: Int, retry: RetryPolicy, what rawWhat: String,
                 logger: Logger) async throws -> HTTPResponse {
        let what = URLRedaction.redactURLs(in: rawWhat)  // a last line: callers already pass display names
        var attempt = 0
        while true {
            attempt += 1
            let problem: String
            var answer: HTTPResponse?
            do {
                let response = try await collect(request(), limit: limit)
                guard RetryPolicy.isRetryable(status: response.status) else { return response }
                problem = "HTTP \(response.status)"
                answer = response
            } catch let partial as PartialTransfer {
                switch partial.failure.kind {
                case .cancelled: throw CancellationError()
                case .transient: problem = partial.failure.message
                case .permanent, .sinkFailed:
                    throw DrillError(.storeUnavailable, "cannot \(what): \(partial.failure.message)")
                }
            }
            guard attempt < retry.maxAttempts else {
                throw DrillError(.storeUnavailable, "cannot \(what) after \(attempt) tries: \(problem)")
            }
            logger.warning("retrying a request", metadata: ["what": "\(what)", "problem": "\(problem)"])
            try await Task.sleep(for: retry.delay(afterAttempt: attempt, response: answer))
        }
    }
}
