/// What an expectation asks of its table, in the terms the planner turns into SQL. Every kind compiles to one rule.
public enum ExpectationRule: Sendable {
    /// Rows where `column` is NULL are unexpected; counted over every row (`…_to_not_be_null`).
    case nullRows(column: String)
    /// Rows where `column` is not NULL are unexpected; counted over every row (`…_to_be_null`).
    case nonNullRows(column: String)
    /// Non-NULL rows where `unexpected` holds are unexpected; NULLs are ignored (counted as `missing_count`).
    /// `unexpected` renders the condition for the quoted column, binding its values.
    case condition(column: String, unexpected: @Sendable (_ quotedColumn: String, _ binder: inout SQLBinder) -> String)
    /// Non-NULL rows whose value occurs more than once are unexpected (every such row counts).
    case duplicates(column: String)
    /// An aggregate (`min`, `max`, `avg` of the column, or `count(*)` when `column` is nil) within `range`; the
    /// comparison is made by PostgreSQL, in the column's own type.
    case aggregate(function: String, column: String?, range: ValueRange)
    /// Decided on the table's catalog: its columns, in order.
    case columns(ColumnRule)
}

/// A check on a table's column list.
public enum ColumnRule: Sendable, Equatable {
    /// The column exists (at 0-based `index` among the table's columns, when given).
    case exists(column: String, index: Int?)
    /// The table's columns are exactly `set` (`exact`), or include it.
    case matchSet([String], exact: Bool)
}

/// A bound of a range: a value, or `rpo` (the drill's start less the tier's RPO).
public enum BoundValue: Sendable, Equatable {
    case value(ExpectationValue)
    case rpo
}

/// Bounds an aggregate or each value must lie within; `equal` for `…_to_equal`.
public struct ValueRange: Sendable, Equatable {
    public var min: BoundValue?
    public var max: BoundValue?
    public var strictMin = false
    public var strictMax = false
    public var equal: BoundValue?

    public init(min: BoundValue? = nil, max: BoundValue? = nil, strictMin: Bool = false, strictMax: Bool = false,
                equal: BoundValue? = nil) {
        self.min = min
        self.max = max
        self.strictMin = strictMin
        self.strictMax = strictMax
        self.equal = equal
    }

    /// The SQL condition that `expression` lies within the range (`TRUE` when it has no bound), each bound a
    /// parameter.
    public func condition(_ expression: String, _ binder: inout SQLBinder) -> String {
        var parts: [String] = []
        if let equal { parts.append("\(expression) = \(binder.bind(equal))") }
        if let min { parts.append("\(expression) \(strictMin ? ">" : ">=") \(binder.bind(min))") }
        if let max { parts.append("\(expression) \(strictMax ? "<" : "<=") \(binder.bind(max))") }
        return parts.isEmpty ? "TRUE" : parts.joined(separator: " AND ")
    }

    /// `≥ 1`, `> 0 and ≤ 150`, `= 200`.
    public func describe(rpo: DrillDuration?) -> String {
        func text(_ b: BoundValue) -> String {
            switch b {
            case .value(let v): v.text
            case .rpo: "rpo" + (rpo.map { " (\($0) before the drill's start)" } ?? "")
            }
        }
        var parts: [String] = []
        if let equal { parts.append("= \(text(equal))") }
        if let min { parts.append("\(strictMin ? ">" : "≥") \(text(min))") }
        if let max { parts.append("\(strictMax ? "<" : "≤") \(text(max))") }
        return parts.joined(separator: " and ")
    }
}
