/// `expect_column_values_to_be_in_set`: a non-NULL value outside `value_set` is unexpected.
struct ColumnValuesToBeInSet: ExpectationKind {
    static let name = "column_values_to_be_in_set"
    static let takesMostly = true
    static let keys: Set<String> = ["value_set"]
    static let semantics = "NULLs are ignored; a value not equal to one of `value_set` (compared in the column's type) "
        + "is unexpected."
    let values: [ExpectationValue]
    init?(_ kwargs: Kwargs) {
        guard let values = kwargs.list("value_set") else { return nil }
        self.values = values
    }
    func rule(column: String?) -> ExpectationRule {
        let values = values
        return .condition(column: column!) { c, b in "NOT (\(c) = ANY (\(b.bindArray(values))))" }
    }
    func describe(rpo: DrillDuration?) -> String { "in {" + values.map(\.text).joined(separator: ", ") + "}" }
}
