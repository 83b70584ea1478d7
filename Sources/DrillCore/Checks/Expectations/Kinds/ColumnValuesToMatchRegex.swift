/// `expect_column_values_to_match_regex`: a non-NULL value that PostgreSQL's `~` does not match is unexpected.
struct ColumnValuesToMatchRegex: RegexKind {
    static let name = "column_values_to_match_regex"
    static let matchIsUnexpected = false
    static let semantics = "NULLs are ignored; a value (as text) that does not match `regex` with PostgreSQL's `~` is "
        + "unexpected. Unanchored unless the pattern anchors."
    let regex: String
    init(regex: String) { self.regex = regex }
}
