/// `expect_column_values_to_not_match_regex`: a non-NULL value that PostgreSQL's `~` matches is unexpected.
struct ColumnValuesToNotMatchRegex: ExpectationKind {
    static let name = "column_values_to_not_match_regex"
    static let takesMostly = true
    static let keys: Set<String> = ["regex"]
    static let semantics = "NULLs are ignored; a value (as text) that matches `regex` with PostgreSQL's `~` is unexpected."
    let regex: String
    init?(_ kwargs: Kwargs) {
        guard let regex = kwargs.string("regex", required: true) else { return nil }
        self.regex = regex
    }
    func rule(column: String?) -> ExpectationRule {
        let regex = regex
        return .condition(column: column!) { c, b in "\(c)::text ~ \(b.bind(regex))" }
    }
    func describe(rpo: DrillDuration?) -> String { "not regex \(regex)" }
}
