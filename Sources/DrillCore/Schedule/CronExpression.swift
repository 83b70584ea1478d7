import Foundation

/// A 5-field cron expression (minute hour day-of-month month day-of-week), evaluated in UTC, or one of the macros
/// `@yearly`/`@annually`, `@monthly`, `@weekly`, `@daily`, `@hourly`.
///
/// Fields take `*`, numbers, ranges `a-b`, lists `a,b` and steps `*/n`, `a-b/n`, `a/n`. Day of week is 0–7 (0 and 7 are
/// Sunday). As in Vixie cron, when both day of month and day of week are restricted, a day matching either matches.
public struct CronExpression: Sendable, Equatable, CustomStringConvertible {
    public let text: String
    let minutes: [Int]
    let hours: [Int]
    let daysOfMonth: Set<Int>
    let months: Set<Int>
    let daysOfWeek: Set<Int>
    let domRestricted: Bool
    let dowRestricted: Bool

    public static let macros: [String: String] = [
        "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
        "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@hourly": "0 * * * *",
    ]

    public struct ParseError: Error, Sendable, CustomStringConvertible, Equatable {
        public var description: String
    }

    public init(parsing text: String) throws {
        self.text = text
        let expanded = Self.macros[text] ?? text
        let fields = expanded.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard fields.count == 5 else {
            throw ParseError(description: "\"\(text)\" is not @monthly, @weekly, @daily or a 5-field cron expression")
        }
        minutes = try Self.field(fields[0], name: "minute", 0...59).sorted()
        hours = try Self.field(fields[1], name: "hour", 0...23).sorted()
        daysOfMonth = try Self.field(fields[2], name: "day of month", 1...31)
        months = try Self.field(fields[3], name: "month", 1...12)
        daysOfWeek = Set(try Self.field(fields[4], name: "day of week", 0...7).map { $0 % 7 })
        domRestricted = !fields[2].hasPrefix("*")
        dowRestricted = !fields[4].hasPrefix("*")
        guard daysOfMonth.contains(where: { d in months.contains { Self.maxDays[$0 - 1] >= d } }) || dowRestricted else {
            throw ParseError(description: "\"\(text)\" names a day that no month has")
        }
    }

    public var description: String { text }

    static let maxDays = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

    static func field(_ f: String, name: String, _ range: ClosedRange<Int>) throws -> Set<Int> {
        var out = Set<Int>()
        for part in f.split(separator: ",", omittingEmptySubsequences: false) {
            let pieces = part.split(separator: "/", omittingEmptySubsequences: false)
            guard (1...2).contains(pieces.count) else { throw ParseError(description: "bad \(name) field \"\(f)\"") }
            var step = 1
            if pieces.count == 2 {
                guard let s = Int(pieces[1]), s > 0 else { throw ParseError(description: "bad step in \(name) field \"\(f)\"") }
                step = s
            }
            var lo: Int, hi: Int
            if pieces[0] == "*" {
                (lo, hi) = (range.lowerBound, range.upperBound)
            } else if let dash = pieces[0].firstIndex(of: "-") {
                guard let a = Int(pieces[0][..<dash]), let b = Int(pieces[0][pieces[0].index(after: dash)...]), a <= b else {
                    throw ParseError(description: "bad range in \(name) field \"\(f)\"")
                }
                (lo, hi) = (a, b)
            } else {
                guard let a = Int(pieces[0]) else { throw ParseError(description: "bad \(name) field \"\(f)\"") }
                (lo, hi) = (a, pieces.count == 2 ? range.upperBound : a)
            }
            guard range.contains(lo), range.contains(hi) else {
                throw ParseError(description: "\(name) field \"\(f)\" is outside \(range.lowerBound)-\(range.upperBound)")
            }
            out.formUnion(stride(from: lo, through: hi, by: step))
        }
        return out
    }
}

extension CronExpression {
    static let utc: Calendar = {
        var c = Calendar(identifier: .gregorian)
        c.timeZone = TimeZone(identifier: "UTC")!
        return c
    }()

    /// How far back or forward to look for a matching day: enough for `0 0 29 2 *` (leap days) with margin.
    static let searchDays = 366 * 9

    func matchesDay(_ day: Date) -> Bool {
        let c = Self.utc.dateComponents([.month, .day, .weekday], from: day)
        guard months.contains(c.month!) else { return false }
        let dom = daysOfMonth.contains(c.day!)
        let dow = daysOfWeek.contains(c.weekday! - 1)
        if domRestricted && dowRestricted { return dom || dow }
        return dom && dow
    }

    /// The most recent scheduled instant at or before `date`.
    public func previous(atOrBefore date: Date) -> Date? {
        let cal = Self.utc
        var day = cal.startOfDay(for: date)
        let c = cal.dateComponents([.hour, .minute], from: date)
        var limit = (c.hour!, c.minute!)
        for _ in 0..<Self.searchDays {
            if matchesDay(day) {
                for h in hours.reversed() where h <= limit.0 {
                    let maxMinute = h == limit.0 ? limit.1 : 59
                    if let m = minutes.last(where: { $0 <= maxMinute }) {
                        return day.addingTimeInterval(Double(h * 3_600 + m * 60))
                    }
                }
            }
            day = cal.date(byAdding: .day, value: -1, to: day)!
            limit = (23, 59)
        }
        return nil
    }

    /// The first scheduled instant strictly after `date`.
    public func next(after date: Date) -> Date? {
        let cal = Self.utc
        let startOfMinute = cal.dateInterval(of: .minute, for: date)!.start
        let from = startOfMinute.addingTimeInterval(60)
        var day = cal.startOfDay(for: from)
        let c = cal.dateComponents([.hour, .minute], from: from)
        var floor = (c.hour!, c.minute!)
        for _ in 0..<Self.searchDays {
            if matchesDay(day) {
                for h in hours where h >= floor.0 {
                    let minMinute = h == floor.0 ? floor.1 : 0
                    if let m = minutes.first(where: { $0 >= minMinute }) {
                        return day.addingTimeInterval(Double(h * 3_600 + m * 60))
                    }
                }
            }
            day = cal.date(byAdding: .day, value: 1, to: day)!
            floor = (0, 0)
        }
        return nil
    }
}
