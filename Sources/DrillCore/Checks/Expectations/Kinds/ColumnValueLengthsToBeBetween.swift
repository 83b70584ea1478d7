/// `expect_column_value_lengths_to_be_between`: a non-NULL value whose length in characters is outside the bounds
/// is unexpected.
struct ColumnValueLengthsToBeBetween: RangeKind {
    static let name = "column_value_lengths_to_be_between"
    static let takesMostly = true
    static let semantics = "NULLs are ignored; a value whose `char_length` (of its text) is below `min_value` or above "
        + "`max_value` (inclusive unless strict) is unexpected."
    let range: ValueRange
    init(range: ValueRange) { self.range = range }
    func rule(column: String?) -> ExpectationRule {
        let range = range
        return .condition(column: column!) { c, b in
            "NOT (\(range.condition("char_length(\(c)::text)", &b)))"
        }
    }
}
