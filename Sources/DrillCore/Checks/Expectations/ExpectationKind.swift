/// One kind of expectation (Great Expectations' name without `expect_`): it parses its kwargs, compiles to a rule the
/// planner turns into SQL, and describes itself. Each kind lives in its own file under `Kinds/` and is listed once in
/// `ExpectationRegistry`.
public protocol ExpectationKind: Sendable {
    /// `column_values_to_not_be_null`.
    static var name: String { get }
    /// Whether it takes `column` (required) and `mostly`.
    static var takesColumn: Bool { get }
    static var takesMostly: Bool { get }
    /// Its other kwargs, by Great Expectations' names.
    static var keys: Set<String> { get }
    /// Its exact semantics, one sentence (docs/checks.md is written from these).
    static var semantics: String { get }

    /// Parses the kwargs; problems are recorded in `kwargs.reader` (then nil).
    init?(_ kwargs: Kwargs)

    /// What the planner computes for it, on `column` when it takes one.
    func rule(column: String?) -> ExpectationRule
    /// Its kwargs in a few words, for the report's `expected`: `regex ^a`, `≥ 0 and ≤ 150`.
    func describe(rpo: DrillDuration?) -> String
}

extension ExpectationKind {
    public static var takesColumn: Bool { true }
    public static var takesMostly: Bool { false }
    public static var keys: Set<String> { [] }
    public func describe(rpo: DrillDuration?) -> String { "" }
}

/// A kind as the registry holds it: its static facts as values (Swift 6.3's SILGen crashes on a failable init called
/// through `any ExpectationKind.Type`, so nothing calls through an existential metatype).
public struct ExpectationDefinition: Sendable {
    public var name: String
    public var takesColumn: Bool
    public var takesMostly: Bool
    public var keys: Set<String>
    public var semantics: String
    public var parse: @Sendable (Kwargs) -> (any ExpectationKind)?

    public init<K: ExpectationKind>(_ kind: K.Type) {
        name = K.name
        takesColumn = K.takesColumn
        takesMostly = K.takesMostly
        keys = K.keys
        semantics = K.semantics
        parse = { K($0) }
    }

    /// Every kwarg it accepts.
    public var allKeys: Set<String> { keys.union(takesColumn ? ["column"] : []).union(takesMostly ? ["mostly"] : []) }
}

/// A kind whose kwargs are a range (`min_value`, `max_value`, `strict_min`, `strict_max`).
protocol RangeKind: ExpectationKind {
    var range: ValueRange { get }
    init(range: ValueRange)
}

extension RangeKind {
    public static var keys: Set<String> { ["min_value", "max_value", "strict_min", "strict_max"] }
    public init?(_ kwargs: Kwargs) {
        guard let range = kwargs.range() else { return nil }
        self.init(range: range)
    }
    public func describe(rpo: DrillDuration?) -> String { range.describe(rpo: rpo) }
}

/// A kind whose kwarg is a `regex`, matched with PostgreSQL's `~` against the value's text.
protocol RegexKind: ExpectationKind {
    /// Whether a match is what is unexpected (`…_to_not_match_regex`).
    static var matchIsUnexpected: Bool { get }
    var regex: String { get }
    init(regex: String)
}

extension RegexKind {
    public static var takesMostly: Bool { true }
    public static var keys: Set<String> { ["regex"] }
    public init?(_ kwargs: Kwargs) {
        guard let regex = kwargs.string("regex", required: true) else { return nil }
        self.init(regex: regex)
    }
    public func rule(column: String?) -> ExpectationRule {
        let regex = regex, negate = !Self.matchIsUnexpected
        return .condition(column: column!) { c, b in
            let match = "\(c)::text ~ \(b.bind(regex))"
            return negate ? "NOT (\(match))" : match
        }
    }
    public func describe(rpo: DrillDuration?) -> String { (Self.matchIsUnexpected ? "not regex " : "regex ") + regex }
}

/// A kind whose kwarg is a `value_set`, compared in the column's type.
protocol SetKind: ExpectationKind {
    /// Whether a value in the set is what is unexpected (`…_to_not_be_in_set`).
    static var memberIsUnexpected: Bool { get }
    var values: [ExpectationValue] { get }
    init(values: [ExpectationValue])
}

extension SetKind {
    public static var takesMostly: Bool { true }
    public static var keys: Set<String> { ["value_set"] }
    public init?(_ kwargs: Kwargs) {
        guard let values = kwargs.list("value_set") else { return nil }
        self.init(values: values)
    }
    public func rule(column: String?) -> ExpectationRule {
        let values = values, negate = !Self.memberIsUnexpected
        return .condition(column: column!) { c, b in
            let member = "\(c) = ANY (\(b.bindArray(values)))"
            return negate ? "NOT (\(member))" : member
        }
    }
    public func describe(rpo: DrillDuration?) -> String {
        (Self.memberIsUnexpected ? "not in {" : "in {") + values.map(\.text).joined(separator: ", ") + "}"
    }
}
