/// `expect_column_values_to_match_regex`: a non-NULL value that PostgreSQL's `~` does not match is unexpected.
struct ColumnValuesToMatchRegex: ExpectationKind {
    static let name = "column_values_to_match_regex"
    static let takesMostly = true
    static let keys: Set<String> = ["regex"]
    static let semantics = "NULLs are ignored; a value (as text) that does not match `regex` with PostgreSQL's `~` is "
        + "unexpected. Unanchored unless the pattern anchors."
    let regex: String
    init?(_ kwargs: Kwargs) {
        guard let regex = kwargs.string("regex", required: true) else { return nil }
        self.regex = regex
    }
    func rule(column: String?) -> ExpectationRule {
        let regex = regex
        return .condition(column: column!) { c, b in "NOT (\(c)::text ~ \(b.bind(regex)))" }
    }
    func describe(rpo: DrillDuration?) -> String { "regex \(regex)" }
}
