import Foundation

/// A PostgreSQL release as its tools print it (`18.6`, `15.18 (Debian 15.18-0+deb12u1)`, `17beta1`), or a data
/// folder's `PG_VERSION` (`18`). Majors compare first: from 10 on, the major is the first number.
public struct PostgresVersion: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public var major: Int
    /// Nil when only the major is known (`PG_VERSION`).
    public var minor: Int?

    public init(major: Int, minor: Int? = nil) {
        self.major = major
        self.minor = minor
    }

    /// Reads the first version number in `text` (`pg_restore (PostgreSQL) 18.6` reads as well as `18.6`). Nil when it
    /// holds none.
    public init?(parsing text: String) {
        var s = Substring(text.trimmingCharacters(in: .whitespacesAndNewlines))
        if let paren = s.range(of: "(PostgreSQL)") { s = s[paren.upperBound...].drop { $0 == " " } }
        let digits = s.prefix { $0.isNumber }
        guard let major = Int(digits), major > 0, major < 1000 else { return nil }
        let rest = s.dropFirst(digits.count)
        var minor: Int?
        if rest.first == "." {
            minor = Int(rest.dropFirst().prefix { $0.isNumber })
        }
        // Before 10 the major had two parts (9.6): keep both in `major` as 9.6 → 96 would mislead; such servers are
        // long out of support, and the first number is what `PG_VERSION` says too (`9.6`).
        self.init(major: major, minor: minor)
    }

    public var description: String { minor.map { "\(major).\($0)" } ?? "\(major)" }

    public static func < (a: Self, b: Self) -> Bool {
        (a.major, a.minor ?? -1) < (b.major, b.minor ?? -1)
    }

    public init(from decoder: any Decoder) throws {
        let s = try decoder.singleValueContainer().decode(String.self)
        guard let v = PostgresVersion(parsing: s) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a PostgreSQL version: \(s)"))
        }
        self = v
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}
