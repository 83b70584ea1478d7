/// `expect_column_values_to_be_between`: a non-NULL value outside the bounds is unexpected.
struct ColumnValuesToBeBetween: RangeKind {
    static let name = "column_values_to_be_between"
    static let takesMostly = true
    static let semantics = "NULLs are ignored; a value below `min_value` or above `max_value` (inclusive unless "
        + "`strict_min`/`strict_max`) is unexpected, compared in the column's type (`\"rpo\"` as a bound: the drill's "
        + "start less the tier's RPO)."
    let range: ValueRange
    init(range: ValueRange) { self.range = range }
    func rule(column: String?) -> ExpectationRule {
        let range = range
        return .condition(column: column!) { c, b in "NOT (\(range.condition(c, &b)))" }
    }
}
