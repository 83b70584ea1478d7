/// `expect_table_columns_to_match_set`: the table's columns are `column_set` (or include it, `exact_match: false`).
struct TableColumnsToMatchSet: ExpectationKind {
    static let name = "table_columns_to_match_set"
    static let takesColumn = false
    static let keys: Set<String> = ["column_set", "exact_match"]
    static let semantics = "The table's column names (`observed_value`, from the catalog) equal `column_set` as a set; "
        + "with `exact_match: false` they need only include it. Names compare exactly (case-sensitive)."
    let columns: [String]
    let exact: Bool
    init?(_ kwargs: Kwargs) {
        guard let columns = kwargs.strings("column_set") else { return nil }
        self.columns = columns
        exact = kwargs.bool("exact_match") ?? true
    }
    func rule(column: String?) -> ExpectationRule { .columns(.matchSet(columns, exact: exact)) }
    func describe(rpo: DrillDuration?) -> String {
        (exact ? "exactly " : "including ") + "{" + columns.joined(separator: ", ") + "}"
    }
}
