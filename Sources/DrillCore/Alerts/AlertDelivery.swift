import Foundation

/// Delivers alerts with retries and exponential backoff inside a bounded time budget. Never throws: a dead webhook
/// is an outcome to print, and it can never lose a report (reports are archived before alerts are sent).
public struct AlertDelivery: Sendable {
    public var poster: any WebhookPoster
    /// Attempts per alert, the first included.
    public var attempts: Int
    /// Wait before the second attempt; doubled before each further one.
    public var initialBackoffSeconds: Double
    /// Upper bound on the whole delivery of one alert, waits included.
    public var budgetSeconds: Double
    /// Per-request cap (the remaining budget caps it further).
    public var requestTimeoutSeconds: Double
    public var now: @Sendable () -> Date
    public var sleep: @Sendable (Double) async -> Void

    public init(poster: any WebhookPoster, attempts: Int = 3, initialBackoffSeconds: Double = 1, budgetSeconds: Double = 15,
                requestTimeoutSeconds: Double = 5, now: @escaping @Sendable () -> Date,
                sleep: @escaping @Sendable (Double) async -> Void) {
        self.poster = poster
        self.attempts = attempts
        self.initialBackoffSeconds = initialBackoffSeconds
        self.budgetSeconds = budgetSeconds
        self.requestTimeoutSeconds = requestTimeoutSeconds
        self.now = now
        self.sleep = sleep
    }

    public struct Outcome: Sendable, Equatable {
        public var delivered: Bool
        public var attempts: Int
        /// The last error, without the webhook URL (it is a secret).
        public var lastError: String?

        public init(delivered: Bool, attempts: Int, lastError: String?) {
            self.delivered = delivered
            self.attempts = attempts
            self.lastError = lastError
        }
    }

    public func deliver(_ alert: Alert) async -> Outcome {
        let deadline = now().addingTimeInterval(budgetSeconds)
        var backoff = initialBackoffSeconds
        var lastError: String?
        for attempt in 1...max(1, attempts) {
            let remaining = deadline.timeIntervalSince(now())
            if remaining <= 0 { return Outcome(delivered: false, attempts: attempt - 1, lastError: lastError ?? "time budget spent") }
            do {
                try await poster.post(alert.body(), to: alert.webhook, timeoutSeconds: min(requestTimeoutSeconds, remaining))
                return Outcome(delivered: true, attempts: attempt, lastError: nil)
            } catch {
                lastError = "\(error)"
            }
            if attempt < attempts {
                let wait = min(backoff, deadline.timeIntervalSince(now()))
                if wait <= 0 { return Outcome(delivered: false, attempts: attempt, lastError: lastError) }
                await sleep(wait)
                backoff *= 2
            }
        }
        return Outcome(delivered: false, attempts: attempts, lastError: lastError)
    }
}
