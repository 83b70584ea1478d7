/// `expect_column_values_to_be_in_set`: a non-NULL value outside `value_set` is unexpected.
struct ColumnValuesToBeInSet: SetKind {
    static let name = "column_values_to_be_in_set"
    static let memberIsUnexpected = false
    static let semantics = "NULLs are ignored; a value not equal to one of `value_set` (compared in the column's type) "
        + "is unexpected."
    let values: [ExpectationValue]
    init(values: [ExpectationValue]) { self.values = values }
}
