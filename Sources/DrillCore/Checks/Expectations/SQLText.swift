/// SQL text for expectations: identifiers quoted, values bound as parameters (`$1`, `$2`, …), never spliced.
public enum SQLText {
    /// `"name"` with inner quotes doubled: any string is a safe identifier this way.
    public static func identifier(_ name: String) -> String { "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
}

/// The parameters of one statement, numbered as they are bound.
public struct SQLBinder: Sendable, Equatable {
    /// Parameter values in order (`$1` is the first); text, as libpq sends them.
    public private(set) var values: [String] = []
    /// What `"rpo"` stands for in this run: the drill's start less the tier's RPO, RFC 3339 in UTC.
    public var rpoInstant: String

    public init(rpoInstant: String = "") { self.rpoInstant = rpoInstant }

    /// Binds a bound, `"rpo"` as the instant it stands for (a timestamptz).
    public mutating func bind(_ bound: BoundValue) -> String {
        switch bound {
        case .value(let v): bind(v)
        case .rpo: bind(rpoInstant, cast: "timestamptz")
        }
    }

    /// Binds `value` and returns its placeholder, with a cast when the value's type must not be inferred from the
    /// column it is compared with (`$1::numeric` for a number, so `int_column >= 1.5` works).
    public mutating func bind(_ value: String, cast: String? = nil) -> String {
        values.append(value)
        return "$\(values.count)" + (cast.map { "::\($0)" } ?? "")
    }

    /// Binds a JSON scalar: a number as numeric, a boolean as boolean, a string untyped (PostgreSQL then reads it
    /// as the type of what it is compared with: a date, a timestamp, an enum, text).
    public mutating func bind(_ value: ExpectationValue) -> String {
        switch value {
        case .number(let n): bind(ExpectationValue.numberText(n), cast: "numeric")
        case .bool(let b): bind(b ? "true" : "false", cast: "boolean")
        case .text(let s): bind(s)
        case .instant(let s): bind(s, cast: "timestamptz")
        }
    }

    /// Binds a list of values as one array parameter: numeric[] when every value is a number, else untyped (read as
    /// an array of the column's type).
    public mutating func bindArray(_ items: [ExpectationValue]) -> String {
        let allNumbers = !items.isEmpty && items.allSatisfy { if case .number = $0 { true } else { false } }
        let literal = "{" + items.map { item in
            let text: String = switch item {
            case .number(let n): ExpectationValue.numberText(n)
            case .bool(let b): b ? "true" : "false"
            case .text(let s), .instant(let s): s
            }
            return "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }.joined(separator: ",") + "}"
        return bind(literal, cast: allNumbers ? "numeric[]" : nil)
    }
}

/// A value an expectation compares with, as a drill file or a suite gives it.
public enum ExpectationValue: Sendable, Equatable {
    case number(Double)
    case bool(Bool)
    case text(String)
    /// A point in time drill works out (`"rpo"`: the drill's start less the tier's RPO), RFC 3339 in UTC.
    case instant(String)

    static func numberText(_ n: Double) -> String {
        n == n.rounded() && abs(n) < 1e15 ? String(Int64(n)) : String(n)
    }

    /// As written in a report: `0`, `active`, `2026-01-01T00:00:00Z`.
    public var text: String {
        switch self {
        case .number(let n): Self.numberText(n)
        case .bool(let b): b ? "true" : "false"
        case .text(let s), .instant(let s): s
        }
    }
}
