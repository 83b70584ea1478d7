/// `expect_column_to_exist`: the table has the column (at `column_index`, 0-based, when given).
struct ColumnToExist: ExpectationKind {
    static let name = "column_to_exist"
    static let keys: Set<String> = ["column_index"]
    static let semantics = "The column is among the table's columns (from the catalog), at 0-based `column_index` "
        + "when given. A missing column fails this check instead of erroring."
    let index: Int?
    init?(_ kwargs: Kwargs) {
        index = kwargs.integer("column_index", range: 0...1600)
        if kwargs.values["column_index"] != nil, index == nil { return nil }
    }
    func rule(column: String?) -> ExpectationRule { .columns(.exists(column: column!, index: index)) }
    func describe(rpo: DrillDuration?) -> String { index.map { "at index \($0)" } ?? "" }
}
