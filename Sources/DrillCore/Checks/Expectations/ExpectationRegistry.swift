/// Every expectation kind drill supports, in one place (docs/checks.md lists the same).
public enum ExpectationRegistry {
    public static let kinds: [ExpectationDefinition] = [
        .init(ColumnValuesToNotBeNull.self), .init(ColumnValuesToBeNull.self), .init(ColumnValuesToBeUnique.self),
        .init(ColumnValuesToMatchRegex.self), .init(ColumnValuesToNotMatchRegex.self), .init(ColumnValuesToBeBetween.self),
        .init(ColumnValuesToBeInSet.self), .init(ColumnValuesToNotBeInSet.self), .init(ColumnValueLengthsToBeBetween.self),
        .init(ColumnMinToBeBetween.self), .init(ColumnMaxToBeBetween.self), .init(ColumnMeanToBeBetween.self),
        .init(TableRowCountToBeBetween.self), .init(TableRowCountToEqual.self), .init(TableColumnsToMatchSet.self),
        .init(ColumnToExist.self),
    ]

    /// Kwargs Great Expectations writes into suites that change nothing drill computes: accepted and ignored.
    public static let ignoredKeys: Set<String> = ["result_format", "catch_exceptions", "include_config", "batch_id"]

    /// The kind for a type, with or without the `expect_` prefix.
    public static func kind(named type: String) -> ExpectationDefinition? {
        let bare = type.hasPrefix("expect_") ? String(type.dropFirst("expect_".count)) : type
        return kinds.first { $0.name == bare }
    }

    /// Parses one expectation of a supported `type` on `table`; problems go to `reader` under `path`.
    public static func parse(type: String, table: TableName, kwargs: [String: JSONValue], at path: String,
                             reader r: ConfigReader) -> ExpectationCheck? {
        guard let kind = kind(named: type) else {
            r.fail(path, "unsupported expectation type \"\(type)\" (drill supports: \(kinds.map(\.name).joined(separator: ", ")))")
            return nil
        }
        let before = r.issues.count
        let allowed = kind.allKeys
        for key in kwargs.keys.sorted() where !allowed.contains(key) && !ignoredKeys.contains(key) {
            r.fail(r.join(path, key), "not a kwarg of \(kind.name) (it takes: \(allowed.sorted().joined(separator: ", ")))")
        }
        let k = Kwargs(kwargs, at: path, reader: r)
        let column = kind.takesColumn ? k.string("column", required: true) : nil
        var mostly = 1.0
        if let m = r.number(k.values["mostly"], at: r.join(path, "mostly")) {
            if m < 0 || m > 1 { r.fail(r.join(path, "mostly"), "must be from 0 to 1, found \(JSONValue.number(m).compactText)") }
            mostly = m
        }
        let parsed = kind.parse(k)
        guard r.issues.count == before, let parsed else { return nil }
        return ExpectationCheck(type: "expect_" + kind.name, table: table, column: column, mostly: mostly, kwargs: kwargs,
                                kind: parsed)
    }

    /// The short keys a drill file may use for an inline expectation, and Great Expectations' names for them.
    public static let aliases = ["min": "min_value", "max": "max_value", "values": "value_set", "columns": "column_set"]

    /// Parses an inline check (`{ "name", "expect": "<type>", "table", "column", …kwargs }`); `name` and `timeout`
    /// are the caller's.
    public static func parseInline(_ c: [String: JSONValue], at path: String, reader r: ConfigReader) -> ExpectationCheck? {
        let type = r.string(c["expect"], at: r.join(path, "expect"), required: true)
        let tableText = r.string(c["table"], at: r.join(path, "table"), required: true)
        var table: TableName?
        if let tableText {
            table = TableName(parsing: tableText)
            if table == nil { r.fail(r.join(path, "table"), "expected table or schema.table, found \"\(tableText)\"") }
        }
        var kwargs: [String: JSONValue] = [:]
        for (key, value) in c where !["name", "expect", "table", "timeout", "sql"].contains(key) {
            let ge = aliases[key] ?? key
            if kwargs[ge] != nil { r.fail(r.join(path, key), "given twice (\(key) is \(ge))") }
            kwargs[ge] = value
        }
        guard let type, let table else { return nil }
        return parse(type: type, table: table, kwargs: kwargs, at: path, reader: r)
    }
}
