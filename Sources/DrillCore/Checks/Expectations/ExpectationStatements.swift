/// One SQL statement and its parameters.
public struct SQLStatement: Sendable, Equatable {
    public var sql: String
    public var parameters: [String]

    public init(_ sql: String, _ parameters: [String] = []) {
        self.sql = sql
        self.parameters = parameters
    }
}

/// The statements the planner sends for a table's expectations. Pure: tests and docs/checks.md read them here.
public struct ExpectationStatements: Sendable {
    /// The most unexpected values a result lists (`partial_unexpected_list`), as in Great Expectations.
    public static let partialCount = 20
    /// The most characters of each listed value; a longer one is cut and ends with `…`.
    public static let valueCharacters = 200
    /// The most characters of an aggregate's `observed_value` (a `min` of a text column could be large).
    public static let observedCharacters = 1024

    /// What `"rpo"` stands for in this run.
    public var rpoInstant: String

    public init(rpoInstant: String) { self.rpoInstant = rpoInstant }

    /// Whether the table exists (first column of every row) and its columns in order: one row per column, or one
    /// row with a NULL name when it has none (or does not exist).
    public func catalog(_ table: TableName) -> SQLStatement {
        SQLStatement("SELECT c.oid IS NOT NULL, a.attname::text FROM (SELECT to_regclass($1) AS oid) c "
            + "LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
            + "ORDER BY a.attnum", [table.quoted])
    }

    /// The table's one scan: `count(*)`, then what each expectation needs, in `slots` order. Each slot says which
    /// output columns are its own.
    public func scan(_ table: TableName, _ items: [ExpectationCheck]) -> (statement: SQLStatement, slots: [ScanSlot]) {
        var b = SQLBinder(rpoInstant: rpoInstant)
        var select = ["count(*)"]
        var nonNullColumn: [String: Int] = [:]
        func nonNull(_ column: String) -> Int {
            if let i = nonNullColumn[column] { return i }
            select.append("count(\(SQLText.identifier(column)))")
            nonNullColumn[column] = select.count - 1
            return select.count - 1
        }
        var slots: [ScanSlot] = []
        for item in items {
            switch item.rule {
            case .nullRows(let column)?, .nonNullRows(let column)?, .duplicates(let column)?:
                slots.append(ScanSlot(nonNull: nonNull(column)))
            case .condition(let column, let unexpected)?:
                let q = SQLText.identifier(column)
                let n = nonNull(column)
                select.append("count(*) FILTER (WHERE \(q) IS NOT NULL AND (\(unexpected(q, &b))))")
                slots.append(ScanSlot(nonNull: n, unexpected: select.count - 1))
            case .aggregate(let function, let column, let range)?:
                let expression = column.map { "\(function)(\(SQLText.identifier($0)))" } ?? "count(*)"
                select.append("left((\(expression))::text, \(Self.observedCharacters))")
                select.append("(\(range.condition(expression, &b))) IS TRUE")
                slots.append(ScanSlot(observed: select.count - 2, inRange: select.count - 1))
            case .columns?, nil:
                slots.append(ScanSlot())
            }
        }
        return (SQLStatement("SELECT " + select.joined(separator: ", ") + " FROM " + table.quoted, b.values), slots)
    }

    /// Rows whose value occurs more than once, counted (each such row counts).
    public func duplicates(_ table: TableName, column: String) -> SQLStatement {
        let q = SQLText.identifier(column)
        return SQLStatement("SELECT coalesce(sum(n), 0) FROM (SELECT count(*) AS n FROM \(table.quoted) "
            + "WHERE \(q) IS NOT NULL GROUP BY \(q) HAVING count(*) > 1) d")
    }

    /// Up to `partialCount` unexpected values, each cut to `valueCharacters` (one more is read, to tell it was cut);
    /// nil when the values are known without a query (NULLs).
    public func unexpectedValues(_ table: TableName, _ item: ExpectationCheck) -> SQLStatement? {
        var b = SQLBinder(rpoInstant: rpoInstant)
        let condition: String
        let column: String
        switch item.rule {
        case .nonNullRows(let c)?:
            column = c
            condition = "\(SQLText.identifier(c)) IS NOT NULL"
        case .condition(let c, let unexpected)?:
            column = c
            let q = SQLText.identifier(c)
            condition = "\(q) IS NOT NULL AND (\(unexpected(q, &b)))"
        case .duplicates(let c)?:
            column = c
            let q = SQLText.identifier(c)
            condition = "\(q) IN (SELECT \(q) FROM \(table.quoted) WHERE \(q) IS NOT NULL GROUP BY \(q) HAVING count(*) > 1)"
        default:
            return nil
        }
        return SQLStatement("SELECT left(\(SQLText.identifier(column))::text, \(Self.valueCharacters + 1)) FROM \(table.quoted) "
            + "WHERE \(condition) LIMIT \(Self.partialCount)", b.values)
    }

    /// The statement shown for a check in a report: its part of the scan, as if it ran alone.
    public func shown(_ item: ExpectationCheck) -> String {
        switch item.rule {
        case .duplicates(let column)?: duplicates(item.table, column: column).sql
        case .columns?: catalog(item.table).sql
        case nil: ""
        default: scan(item.table, [item]).statement.sql
        }
    }
}

/// Where an expectation's figures are in the scan's row (output column indexes).
public struct ScanSlot: Sendable, Equatable {
    public var nonNull: Int?
    public var unexpected: Int?
    public var observed: Int?
    public var inRange: Int?

    public init(nonNull: Int? = nil, unexpected: Int? = nil, observed: Int? = nil, inRange: Int? = nil) {
        self.nonNull = nonNull
        self.unexpected = unexpected
        self.observed = observed
        self.inRange = inRange
    }
}
