import DrillCore
import DrillLive
import Foundation

extension LiveWiring {
    /// Alerts over libcurl: 3 attempts, 1 s then 2 s backoff, at most 15 s per alert.
    static func alertDelivery() -> AlertDelivery {
        AlertDelivery(poster: CurlWebhookPoster(), now: { Date() },
                      sleep: { seconds in try? await Task.sleep(for: .seconds(seconds)) })
    }
}
