/// `expect_column_values_to_be_unique`: every non-NULL row whose value occurs more than once is unexpected.
struct ColumnValuesToBeUnique: ExpectationKind {
    static let name = "column_values_to_be_unique"
    static let takesMostly = true
    static let semantics = "NULLs are ignored; each row whose value occurs in more than one row is unexpected "
        + "(a value present twice counts 2). Costs one grouped query of its own."
    init?(_ kwargs: Kwargs) {}
    func rule(column: String?) -> ExpectationRule { .duplicates(column: column!) }
}
