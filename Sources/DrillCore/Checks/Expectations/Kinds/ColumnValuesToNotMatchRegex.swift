/// `expect_column_values_to_not_match_regex`: a non-NULL value that PostgreSQL's `~` matches is unexpected.
struct ColumnValuesToNotMatchRegex: RegexKind {
    static let name = "column_values_to_not_match_regex"
    static let matchIsUnexpected = true
    static let semantics = "NULLs are ignored; a value (as text) that matches `regex` with PostgreSQL's `~` is unexpected."
    let regex: String
    init(regex: String) { self.regex = regex }
}
