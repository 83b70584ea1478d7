import Foundation

/// RFC 3339 timestamps (`2026-11-28T07:30:00Z`, `2026-11-28T07:30:00.25+01:00`), always with an explicit offset.
public enum RFC3339 {
    public static func parse(_ text: String) -> Date? {
        Timestamp.parse(text, requireOffset: true, separators: ["T", "t"])
    }

    /// `2026-11-28T07:30:00Z`, with milliseconds when `fractional`.
    public static func format(_ date: Date, fractional: Bool = false) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = fractional ? "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'" : "yyyy-MM-dd'T'HH:mm:ss'Z'"
        return f.string(from: date)
    }

    /// `20261128T073000Z`: a UTC timestamp safe in file and database names.
    public static func compact(_ date: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return f.string(from: date)
    }
}

/// PostgreSQL's text output of `timestamptz` / `timestamp` / `date` (`2026-11-28 07:30:00.123456+00`).
/// Values without an offset are read as UTC (checks run with `TimeZone=UTC`).
public enum PostgresTimestamp {
    public static func parse(_ text: String) -> Date? {
        let t = text.trimmingCharacters(in: .whitespaces)
        if t.count == 10 { return Timestamp.parse(t + " 00:00:00", requireOffset: false, separators: [" "]) }
        return Timestamp.parse(t, requireOffset: false, separators: [" ", "T"])
    }
}

enum Timestamp {
    /// `YYYY-MM-DD<sep>HH:MM:SS[.frac][Z|±HH[:MM[:SS]]]`.
    static func parse(_ text: String, requireOffset: Bool, separators: Set<Character>) -> Date? {
        let chars = Array(text)
        var i = 0
        func int(_ n: Int) -> Int? {
            guard i + n <= chars.count else { return nil }
            var v = 0
            for c in chars[i..<(i + n)] {
                guard let d = c.wholeNumberValue, c.isASCII else { return nil }
                v = v * 10 + d
            }
            i += n
            return v
        }
        func expect(_ c: Character) -> Bool {
            guard i < chars.count, chars[i] == c else { return false }
            i += 1
            return true
        }
        guard let year = int(4), expect("-"), let month = int(2), expect("-"), let day = int(2) else { return nil }
        guard i < chars.count, separators.contains(chars[i]) else { return nil }
        i += 1
        guard let hour = int(2), expect(":"), let minute = int(2), expect(":"), let second = int(2) else { return nil }
        var fraction = 0.0
        if i < chars.count, chars[i] == "." {
            i += 1
            var scale = 0.1
            var any = false
            while i < chars.count, let d = chars[i].wholeNumberValue, chars[i].isASCII {
                fraction += Double(d) * scale
                scale /= 10
                i += 1
                any = true
            }
            if !any { return nil }
        }
        var offset = 0
        if i < chars.count, chars[i] == "Z" || chars[i] == "z" {
            i += 1
        } else if i < chars.count, chars[i] == "+" || chars[i] == "-" {
            let sign = chars[i] == "-" ? -1 : 1
            i += 1
            guard let oh = int(2) else { return nil }
            var om = 0, os = 0
            if expect(":") { guard let m = int(2) else { return nil }; om = m }
            else if i + 2 <= chars.count, let m = int(2) { om = m }
            if expect(":") { guard let s = int(2) else { return nil }; os = s }
            offset = sign * (oh * 3600 + om * 60 + os)
        } else if requireOffset {
            return nil
        }
        guard i == chars.count else { return nil }
        guard (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "UTC")!
        guard let base = cal.date(from: DateComponents(year: year, month: month, day: day, hour: hour, minute: minute,
                                                      second: second)) else { return nil }
        return base.addingTimeInterval(fraction - Double(offset))
    }
}
