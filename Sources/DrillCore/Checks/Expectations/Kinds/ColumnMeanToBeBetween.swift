/// `expect_column_mean_to_be_between`: the column's mean (`avg`) within the bounds; `observed_value` is the mean (`avg`).
struct ColumnMeanToBeBetween: RangeKind {
    static let name = "column_mean_to_be_between"
    static let semantics = "The mean (`avg`) of the non-NULL values (`observed_value`) lies within `min_value`/`max_value` "
        + "(inclusive unless strict), compared in the column's type; no non-NULL value fails."
    let range: ValueRange
    init(range: ValueRange) { self.range = range }
    func rule(column: String?) -> ExpectationRule { .aggregate(function: "avg", column: column!, range: range) }
}
