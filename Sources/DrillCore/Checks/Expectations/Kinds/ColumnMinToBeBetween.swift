/// `expect_column_min_to_be_between`: the column's minimum within the bounds; `observed_value` is the minimum.
struct ColumnMinToBeBetween: RangeKind {
    static let name = "column_min_to_be_between"
    static let semantics = "The minimum of the non-NULL values (`observed_value`) lies within `min_value`/`max_value` "
        + "(inclusive unless strict), compared in the column's type; no non-NULL value fails."
    let range: ValueRange
    init(range: ValueRange) { self.range = range }
    func rule(column: String?) -> ExpectationRule { .aggregate(function: "min", column: column!, range: range) }
}
