/// A smoke check: one SQL statement whose first column of the first row is compared with `expect`, or an expectation
/// on a table (`expectation`; then `sql` is empty and `expect` has no condition).
public struct CheckConfig: Sendable, Equatable {
    public var name: String
    public var sql: String
    public var expect: Expectation
    /// A data-quality expectation (Great Expectations semantics), run by `ExpectationPlanner`.
    public var expectation: ExpectationCheck?
    /// The statement timeout for this check (default 60 s).
    public var timeout: DrillDuration
    /// What PostgreSQL accepts for `statement_timeout`, in milliseconds (0 would mean no limit at all).
    public static let timeoutRange: ClosedRange<Int64> = 1...2_147_483_647

    public init(name: String, sql: String, expect: Expectation, timeout: DrillDuration = DrillDuration(seconds: 60)) {
        self.name = name
        self.sql = sql
        self.expect = expect
        self.timeout = timeout
    }

    /// An expectation check.
    public init(name: String, expectation: ExpectationCheck, timeout: DrillDuration = DrillDuration(seconds: 60)) {
        self.init(name: name, sql: "", expect: Expectation(), timeout: timeout)
        self.expectation = expectation
    }
}

/// What a check's result must satisfy. Every condition present must hold.
public struct Expectation: Sendable, Equatable {
    public enum Freshness: Sendable, Equatable {
        /// No older than the tier's RPO, counted back from the drill's start.
        case rpo
        case duration(DrillDuration)
    }

    public var equals: JSONValue?
    public var min: Double?
    public var max: Double?
    public var matches: String?
    public var within: Freshness?
    public var rowsMin: Int?
    public var rowsMax: Int?

    public init(equals: JSONValue? = nil, min: Double? = nil, max: Double? = nil, matches: String? = nil,
                within: Freshness? = nil, rowsMin: Int? = nil, rowsMax: Int? = nil) {
        self.equals = equals
        self.min = min
        self.max = max
        self.matches = matches
        self.within = within
        self.rowsMin = rowsMin
        self.rowsMax = rowsMax
    }

    public var isEmpty: Bool {
        equals == nil && min == nil && max == nil && matches == nil && within == nil && rowsMin == nil && rowsMax == nil
    }

    /// The expectation as written, for reports: `min 1`, `equals 0`, `within rpo (5m)`.
    public func describe(rpo: DrillDuration?) -> String {
        var parts: [String] = []
        if let equals { parts.append("equals \(equals.compactText)") }
        if let min { parts.append("min \(JSONValue.number(min).compactText)") }
        if let max { parts.append("max \(JSONValue.number(max).compactText)") }
        if let matches { parts.append("matches /\(matches)/") }
        switch within {
        case .rpo: parts.append("within rpo" + (rpo.map { " (\($0))" } ?? ""))
        case .duration(let d): parts.append("within \(d)")
        case nil: break
        }
        if rowsMin != nil || rowsMax != nil {
            parts.append("rows " + [rowsMin.map { "≥ \($0)" }, rowsMax.map { "≤ \($0)" }].compactMap { $0 }.joined(separator: " and "))
        }
        return parts.joined(separator: ", ")
    }
}
