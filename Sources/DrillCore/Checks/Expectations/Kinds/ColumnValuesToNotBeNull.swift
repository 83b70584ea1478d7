/// `expect_column_values_to_not_be_null`: NULL rows are unexpected, counted over every row.
struct ColumnValuesToNotBeNull: ExpectationKind {
    static let name = "column_values_to_not_be_null"
    static let takesMostly = true
    static let semantics = "Every row is counted (`element_count`); a NULL is unexpected. No `missing_count`; "
        + "`unexpected_percent` is over all rows. Passes on an empty table."
    init?(_ kwargs: Kwargs) {}
    func rule(column: String?) -> ExpectationRule { .nullRows(column: column!) }
}
