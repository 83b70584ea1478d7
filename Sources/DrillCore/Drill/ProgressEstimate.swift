import Foundation

/// A transfer's progress as the progress line shows it: done of total (percent), the rate since it began and the
/// time left at that rate.
public struct ProgressEstimate: Sendable, Equatable {
    public var done: Int64
    public var total: Int64?
    /// Bytes per second since the first report (`done` then is the starting point: a replay that begins halfway
    /// through its first segment is not credited with it).
    public var bytesPerSecond: Double
    /// Whole percent of `total`, when known.
    public var percent: Int?
    /// Seconds left at the current rate, when the total is known and something moved.
    public var etaSeconds: Double?

    public init(done: Int64, total: Int64?, startDone: Int64 = 0, elapsedSeconds: Double) {
        self.done = done
        self.total = total
        bytesPerSecond = Double(max(0, done - startDone)) / max(0.001, elapsedSeconds)
        if let total, total > 0 {
            percent = Int(Double(min(done, total)) * 100 / Double(total))
            etaSeconds = bytesPerSecond > 0 ? Double(max(0, total - done)) / bytesPerSecond : nil
        }
    }

    /// `1.2 GiB of 3.4 GiB (35%), ETA 1m 02s, 120.0 MiB/s`.
    public var text: String {
        var text = Self.bytes(done)
        if let total, total > 0, let percent {
            text += " of \(Self.bytes(total)) (\(percent)%)"
            if let etaSeconds { text += ", ETA \(formatSeconds(etaSeconds))" }
        }
        return text + ", \(Self.bytes(Int64(bytesPerSecond)))/s"
    }

    /// `512 B`, `1.5 KiB`, `3.2 GiB`.
    public static func bytes(_ n: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var v = Double(n)
        var i = 0
        while v >= 1024 && i < units.count - 1 { v /= 1024; i += 1 }
        return i == 0 ? "\(n) B" : String(format: "%.1f %@", v, units[i])
    }
}
