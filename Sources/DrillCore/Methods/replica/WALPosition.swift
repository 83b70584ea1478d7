/// A WAL position (`pg_lsn`), as PostgreSQL prints it: `16/B374D848`.
public struct WALPosition: Sendable, Hashable, Comparable, CustomStringConvertible, Codable {
    public var value: UInt64

    public init(_ value: UInt64) { self.value = value }

    /// Parses `hi/lo` in hexadecimal; nil for anything else (NULL, garbage).
    public init?(_ text: String?) {
        guard let text else { return nil }
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, parts[0].count <= 8, parts[1].count <= 8,
              let hi = UInt64(parts[0], radix: 16), let lo = UInt64(parts[1], radix: 16) else { return nil }
        value = hi << 32 | lo
    }

    public var description: String {
        String(value >> 32, radix: 16, uppercase: true) + "/" + String(value & 0xFFFF_FFFF, radix: 16, uppercase: true)
    }

    public static func < (a: Self, b: Self) -> Bool { a.value < b.value }

    /// Bytes from `self` forward to `later` (0 when `later` is not ahead).
    public func bytes(to later: WALPosition) -> Int64 {
        later.value > value ? Int64(clamping: later.value - value) : 0
    }

    public init(from decoder: any Decoder) throws {
        let s = try decoder.singleValueContainer().decode(String.self)
        guard let p = WALPosition(s) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a WAL position: \(s)"))
        }
        self = p
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}
