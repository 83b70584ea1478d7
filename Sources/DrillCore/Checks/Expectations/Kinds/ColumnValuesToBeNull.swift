/// `expect_column_values_to_be_null`: non-NULL rows are unexpected, counted over every row.
struct ColumnValuesToBeNull: ExpectationKind {
    static let name = "column_values_to_be_null"
    static let takesMostly = true
    static let semantics = "Every row is counted; a non-NULL value is unexpected. No `missing_count`; "
        + "`unexpected_percent` is over all rows. Passes on an empty table."
    init?(_ kwargs: Kwargs) {}
    func rule(column: String?) -> ExpectationRule { .nonNullRows(column: column!) }
}
