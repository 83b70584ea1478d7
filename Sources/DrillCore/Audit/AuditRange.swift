import Foundation

/// The span an audit report or a history covers: `--period 2026` / `2026-03`, or `--since 12m` (months), `30d`,
/// `2w`, `1y`, or an RFC 3339 timestamp / `YYYY-MM-DD` date. All in UTC.
public struct AuditRange: Sendable, Equatable {
    public var range: Range<Date>
    public var label: String

    public init(range: Range<Date>, label: String) {
        self.range = range
        self.label = label
    }

    static let utc = CronExpression.utc

    /// `2026` (the calendar year) or `2026-03` (the month).
    public static func period(_ text: String) -> AuditRange? {
        let parts = text.split(separator: "-").map(String.init)
        guard let year = Int(parts[0]), parts[0].count == 4 else { return nil }
        if parts.count == 1, let start = utc.date(from: DateComponents(year: year, month: 1, day: 1)),
           let end = utc.date(byAdding: .year, value: 1, to: start) {
            return AuditRange(range: start..<end, label: text)
        }
        if parts.count == 2, parts[1].count == 2, let month = Int(parts[1]), (1...12).contains(month),
           let start = utc.date(from: DateComponents(year: year, month: month, day: 1)),
           let end = utc.date(byAdding: .month, value: 1, to: start) {
            return AuditRange(range: start..<end, label: text)
        }
        return nil
    }

    /// From `text` ago (or from a timestamp) up to and including `now`. `m` means months here, not minutes.
    public static func since(_ text: String, now: Date) -> AuditRange? {
        let end = now.addingTimeInterval(0.001)
        if let date = RFC3339.parse(text) ?? RFC3339.parse(text + "T00:00:00Z"), date < end {
            return AuditRange(range: date..<end, label: "since \(RFC3339.format(date))")
        }
        guard let unit = text.last, let n = Int(text.dropLast()), n > 0 else { return nil }
        let component: Calendar.Component
        switch unit {
        case "d": component = .day
        case "w": component = .weekOfYear
        case "m": component = .month
        case "y": component = .year
        default: return nil
        }
        guard let start = utc.date(byAdding: component, value: -n, to: now) else { return nil }
        return AuditRange(range: start..<end, label: "last \(text) (since \(RFC3339.format(start)))")
    }
}
