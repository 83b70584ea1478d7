import Foundation

/// How far back a drill's restore points go and how regular they are, against the tier's promises (`retention`,
/// `backup_interval`). The seed keeps backups 30 days and then deletes them: coverage shows whether the oldest is
/// really that old, and whether a backup night is missing.
public struct RetentionCoverage: Sendable, Codable, Equatable {
    public var count: Int
    public var oldest: Date?
    public var newest: Date?
    /// The longest time between two consecutive restore points, and when it began.
    public var largestGapSeconds: Double?
    public var largestGapFrom: Date?
    public var retentionSeconds: Int64?
    public var backupIntervalSeconds: Int64?
    /// Promises not kept (empty when every promise holds or none is made).
    public var findings: [String]

    /// A gap counts as missed when it is over the interval by more than a quarter of it (backups drift by minutes;
    /// a missed night doubles the gap).
    public static let gapTolerance = 1.25

    public init(times: [Date], now: Date, retention: DrillDuration?, interval: DrillDuration?) {
        let sorted = times.sorted()
        count = sorted.count
        oldest = sorted.first
        newest = sorted.last
        retentionSeconds = retention?.seconds
        backupIntervalSeconds = interval?.seconds
        var gap: (Double, Date)?
        for (a, b) in zip(sorted, sorted.dropFirst()) where gap == nil || b.timeIntervalSince(a) > gap!.0 {
            gap = (b.timeIntervalSince(a), a)
        }
        largestGapSeconds = gap?.0
        largestGapFrom = gap?.1
        var f: [String] = []
        if let retention, let oldest {
            let age = now.timeIntervalSince(oldest)
            if age < Double(retention.seconds) {
                f.append("The oldest restore point is \(formatSeconds(age)) old, younger than the promised retention of \(retention): backups are deleted too early (or were started less than \(retention) ago).")
            }
        }
        if let interval {
            let limit = Double(interval.seconds) * Self.gapTolerance
            if let (g, from) = gap, g > limit {
                f.append("A gap of \(formatSeconds(g)) between the restore points of \(RFC3339.format(from)) and \(RFC3339.format(from.addingTimeInterval(g))) exceeds the backup interval of \(interval): a backup was missed.")
            }
            if let newest, now.timeIntervalSince(newest) > limit {
                f.append("The newest restore point is \(formatSeconds(now.timeIntervalSince(newest))) old, more than the backup interval of \(interval): backups have stopped.")
            }
        }
        if (retention != nil || interval != nil) && sorted.isEmpty { f.append("No restore point was found.") }
        findings = f
    }
}
