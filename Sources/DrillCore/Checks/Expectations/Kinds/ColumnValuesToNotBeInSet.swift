/// `expect_column_values_to_not_be_in_set`: a non-NULL value in `value_set` is unexpected.
struct ColumnValuesToNotBeInSet: ExpectationKind {
    static let name = "column_values_to_not_be_in_set"
    static let takesMostly = true
    static let keys: Set<String> = ["value_set"]
    static let semantics = "NULLs are ignored; a value equal to one of `value_set` is unexpected."
    let values: [ExpectationValue]
    init?(_ kwargs: Kwargs) {
        guard let values = kwargs.list("value_set") else { return nil }
        self.values = values
    }
    func rule(column: String?) -> ExpectationRule {
        let values = values
        return .condition(column: column!) { c, b in "\(c) = ANY (\(b.bindArray(values)))" }
    }
    func describe(rpo: DrillDuration?) -> String { "not in {" + values.map(\.text).joined(separator: ", ") + "}" }
}
