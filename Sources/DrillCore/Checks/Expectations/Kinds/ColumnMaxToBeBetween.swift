/// `expect_column_max_to_be_between`: the column's maximum within the bounds; `observed_value` is the maximum.
struct ColumnMaxToBeBetween: RangeKind {
    static let name = "column_max_to_be_between"
    static let semantics = "The maximum of the non-NULL values (`observed_value`) lies within `min_value`/`max_value` "
        + "(inclusive unless strict), compared in the column's type; no non-NULL value fails."
    let range: ValueRange
    init(range: ValueRange) { self.range = range }
    func rule(column: String?) -> ExpectationRule { .aggregate(function: "max", column: column!, range: range) }
}
