import Foundation

/// How often and how patiently a failed request is tried again: exponential backoff with jitter.
public struct RetryPolicy: Sendable {
    /// Tries of one request, the first included. For a download, an attempt that delivered bytes starts the count again.
    public var maxAttempts: Int
    public var baseDelay: Duration
    public var maxDelay: Duration

    public init(maxAttempts: Int = 5, baseDelay: Duration = .milliseconds(250), maxDelay: Duration = .seconds(8)) {
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// The pause before try number `attempt + 1` (attempt counts from 1): base × 2^(attempt-1), capped, ±25 % jitter.
    public func delay(afterAttempt attempt: Int) -> Duration {
        let factor = Double(1 << min(max(attempt - 1, 0), 16))
        let capped = min(baseDelay * factor, maxDelay)
        return capped * Double.random(in: 0.75...1.25)
    }

    /// The pause before the next try after an answer: the backoff, or longer when the server asked for it with
    /// `Retry-After: <seconds>` (S3's 503 SlowDown), at most 30 s.
    public func delay(afterAttempt attempt: Int, response: HTTPResponse?) -> Duration {
        let backoff = delay(afterAttempt: attempt)
        guard let value = response?.headers["retry-after"], let seconds = Int(value.trimmingCharacters(in: .whitespaces)),
              seconds > 0 else { return backoff }
        return max(backoff, .seconds(min(seconds, 30)))
    }

    /// HTTP answers worth another try: server errors, throttling, request timeout.
    public static func isRetryable(status: Int) -> Bool {
        status >= 500 || status == 429 || status == 408
    }
}
