import DrillCore
import Foundation

/// Records posts; fails the first `failures` of them.
public actor FakeWebhookPoster: WebhookPoster {
    public private(set) var posts: [(url: String, body: Data, timeout: Double)] = []
    private var failures: Int

    public init(failures: Int = 0) { self.failures = failures }

    public func post(_ body: Data, to url: String, timeoutSeconds: Double) async throws {
        posts.append((url, body, timeoutSeconds))
        if failures > 0 {
            failures -= 1
            throw ArchiveError("HTTP 503")
        }
    }
}

/// Wall-clock time tests move by hand (`now` and `sleep` for `AlertDelivery`): `sleep` advances it instantly.
public final class ManualWallClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date
    public private(set) var sleeps: [Double] = []

    public init(_ start: Date) { current = start }

    public var now: @Sendable () -> Date { { self.lock.withLock { self.current } } }
    public var sleep: @Sendable (Double) async -> Void {
        { s in self.lock.withLock { self.current = self.current.addingTimeInterval(s); self.sleeps.append(s) } }
    }
    public func advance(_ s: Double) { lock.withLock { current = current.addingTimeInterval(s) } }
}
