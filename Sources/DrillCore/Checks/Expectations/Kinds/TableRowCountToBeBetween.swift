/// `expect_table_row_count_to_be_between`: the table's row count within the bounds.
struct TableRowCountToBeBetween: RangeKind {
    static let name = "table_row_count_to_be_between"
    static let takesColumn = false
    static let semantics = "`count(*)` (`observed_value`) lies within `min_value`/`max_value` (inclusive unless strict)."
    let range: ValueRange
    init(range: ValueRange) { self.range = range }
    func rule(column: String?) -> ExpectationRule { .aggregate(function: "count", column: nil, range: range) }
}
