/// A check that is an expectation on a table (Great Expectations semantics) rather than an SQL statement.
public struct ExpectationCheck: Sendable, Equatable {
    /// Great Expectations' type, with its `expect_` prefix: `expect_column_values_to_not_be_null`.
    public var type: String
    public var table: TableName
    /// The column, for a column expectation.
    public var column: String?
    /// The share of counted rows that must pass (1 unless `mostly` says otherwise).
    public var mostly: Double
    /// The kwargs as given (for equality and the report).
    public var kwargs: [String: JSONValue]
    /// The parsed kind; nil when the check is only a record that the type was skipped.
    public var kind: (any ExpectationKind)?
    /// Why it is not run (`"unsupported": "skip"` in a suite entry).
    public var skipped: String?

    public init(type: String, table: TableName, column: String?, mostly: Double = 1, kwargs: [String: JSONValue],
                kind: (any ExpectationKind)?, skipped: String? = nil) {
        self.type = type
        self.table = table
        self.column = column
        self.mostly = mostly
        self.kwargs = kwargs
        self.kind = kind
        self.skipped = skipped
    }

    /// What the planner computes; nil for a skipped check.
    public var rule: ExpectationRule? { kind?.rule(column: column) }

    /// `expect_column_values_to_match_regex(email) on public.users: regex ^a, mostly 0.99`.
    public func describe(rpo: DrillDuration?) -> String {
        var parts: [String] = []
        if let d = kind?.describe(rpo: rpo), !d.isEmpty { parts.append(d) }
        if mostly < 1 { parts.append("mostly \(JSONValue.number(mostly).compactText)") }
        let head = type + (column.map { "(\($0))" } ?? "") + " on \(table)"
        return parts.isEmpty ? head : head + ": " + parts.joined(separator: ", ")
    }

    public static func == (a: ExpectationCheck, b: ExpectationCheck) -> Bool {
        a.type == b.type && a.table == b.table && a.column == b.column && a.mostly == b.mostly && a.kwargs == b.kwargs
            && a.skipped == b.skipped
    }
}

/// A table an expectation validates: `users` (found through the search path) or `schema.table` (split at the first
/// dot). Both parts are quoted in SQL, so names are exact (case-sensitive).
public struct TableName: Sendable, Hashable, CustomStringConvertible {
    public var schema: String?
    public var name: String

    public init(schema: String? = nil, name: String) {
        self.schema = schema
        self.name = name
    }

    /// `public.users` → schema `public`, table `users`; nil for an empty part.
    public init?(parsing text: String) {
        if let dot = text.firstIndex(of: ".") {
            let s = String(text[..<dot]), n = String(text[text.index(after: dot)...])
            guard !s.isEmpty, !n.isEmpty else { return nil }
            self.init(schema: s, name: n)
        } else {
            guard !text.isEmpty else { return nil }
            self.init(name: text)
        }
    }

    /// `"public"."users"`.
    public var quoted: String { (schema.map { SQLText.identifier($0) + "." } ?? "") + SQLText.identifier(name) }

    public var description: String { (schema.map { $0 + "." } ?? "") + name }
}
