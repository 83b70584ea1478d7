import Foundation

/// A whole number of seconds written with `s`, `m`, `h` and `d` units, combinable: `90s`, `5m`, `1h30m`, `2d`.
public struct DrillDuration: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public var seconds: Int64

    public init(seconds: Int64) { self.seconds = seconds }

    /// Parses `1h30m`-style text. Units must appear at most once each and in descending order (`d`, `h`, `m`, `s`).
    public init?(parsing text: String) {
        let units: [(Character, Int64)] = [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)]
        var total: Int64 = 0
        var digits = ""
        var nextUnit = 0
        var sawUnit = false
        for ch in text {
            if ch.isASCII, ch.isNumber {
                digits.append(ch)
                continue
            }
            guard !digits.isEmpty, digits.count <= 12, let n = Int64(digits),
                  let idx = units.firstIndex(where: { $0.0 == ch }), idx >= nextUnit
            else { return nil }
            total += n * units[idx].1
            nextUnit = idx + 1
            digits = ""
            sawUnit = true
        }
        guard digits.isEmpty, sawUnit else { return nil }
        seconds = total
    }

    public static func < (a: Self, b: Self) -> Bool { a.seconds < b.seconds }

    /// The canonical text form, for example `1h30m`; `0s` for zero.
    public var description: String {
        if seconds == 0 { return "0s" }
        var rest = seconds
        var out = ""
        for (unit, size) in [("d", Int64(86_400)), ("h", 3_600), ("m", 60), ("s", 1)] where rest >= size {
            out += "\(rest / size)\(unit)"
            rest %= size
        }
        return out
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let parsed = DrillDuration(parsing: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a duration: \(text)"))
        }
        self = parsed
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// Human-readable rendering of a measured number of seconds, with sub-second precision for short spans: `0.42s`, `3m 12s`.
public func formatSeconds(_ s: Double) -> String {
    if s < 0 { return "-" + formatSeconds(-s) }
    if s < 60 { return String(format: "%.2fs", s) }
    let whole = Int64(s.rounded())
    let d = whole / 86_400, h = (whole % 86_400) / 3_600, m = (whole % 3_600) / 60, sec = whole % 60
    var parts: [String] = []
    if d > 0 { parts.append("\(d)d") }
    if h > 0 { parts.append("\(h)h") }
    if m > 0 { parts.append("\(m)m") }
    if sec > 0 || parts.isEmpty { parts.append("\(sec)s") }
    return parts.joined(separator: " ")
}
