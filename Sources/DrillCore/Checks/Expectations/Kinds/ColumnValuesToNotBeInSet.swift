/// `expect_column_values_to_not_be_in_set`: a non-NULL value in `value_set` is unexpected.
struct ColumnValuesToNotBeInSet: SetKind {
    static let name = "column_values_to_not_be_in_set"
    static let memberIsUnexpected = true
    static let semantics = "NULLs are ignored; a value equal to one of `value_set` is unexpected."
    let values: [ExpectationValue]
    init(values: [ExpectationValue]) { self.values = values }
}
