/// `expect_table_row_count_to_equal`: the table's row count is `value`.
struct TableRowCountToEqual: ExpectationKind {
    static let name = "table_row_count_to_equal"
    static let takesColumn = false
    static let keys: Set<String> = ["value"]
    static let semantics = "`count(*)` (`observed_value`) equals `value`."
    let value: Int
    init?(_ kwargs: Kwargs) {
        guard let value = kwargs.integer("value", range: 0...Int(Int64.max / 2)) else {
            if kwargs.values["value"] == nil { kwargs.reader.fail(kwargs.at("value"), "missing required key") }
            return nil
        }
        self.value = value
    }
    func rule(column: String?) -> ExpectationRule {
        .aggregate(function: "count", column: nil, range: ValueRange(equal: .value(.number(Double(value)))))
    }
    func describe(rpo: DrillDuration?) -> String { "= \(value)" }
}
