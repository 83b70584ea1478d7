import DrillCore
import Foundation
import Testing

@Suite("Expectation SQL and results")
struct ExpectationSQLTests {
    let statements = ExpectationStatements(rpoInstant: "2026-01-01T00:00:00Z")

    func check(_ json: String) throws -> ExpectationCheck {
        let r = ConfigReader(file: "t")
        guard case .object(let o) = try JSONValue.parse(Data(json.utf8)) else { throw DrillError(.configuration, "not an object") }
        let e = ExpectationRegistry.parseInline(o, at: "c", reader: r)
        #expect(r.issues.isEmpty, "\(r.issues)")
        return try #require(e)
    }

    @Test("one scan per table: count(*), one count per column, each condition with its values bound")
    func scan() throws {
        let items = [
            try check(#"{ "expect": "column_values_to_not_be_null", "table": "public.users", "column": "email" }"#),
            try check(#"{ "expect": "column_values_to_match_regex", "table": "public.users", "column": "email", "regex": "^a'b" }"#),
            try check(#"{ "expect": "column_values_to_be_between", "table": "public.users", "column": "age", "min": 0, "max": 150, "strict_max": true }"#),
            try check(#"{ "expect": "column_values_to_be_in_set", "table": "public.users", "column": "status", "values": ["active", "ba\"nned"] }"#),
            try check(#"{ "expect": "column_max_to_be_between", "table": "public.users", "column": "created_at", "min": "rpo" }"#),
            try check(#"{ "expect": "table_row_count_to_equal", "table": "public.users", "value": 10 }"#),
        ]
        let (s, slots) = statements.scan(TableName(schema: "public", name: "users"), items)
        #expect(s.sql == #"SELECT count(*), count("email"), count(*) FILTER (WHERE "email" IS NOT NULL AND (NOT ("email"::text ~ $1))), "#
            + #"count("age"), count(*) FILTER (WHERE "age" IS NOT NULL AND (NOT ("age" >= $2::numeric AND "age" < $3::numeric))), "#
            + #"count("status"), count(*) FILTER (WHERE "status" IS NOT NULL AND (NOT ("status" = ANY ($4)))), "#
            + #"left((max("created_at"))::text, 1024), (max("created_at") >= $5::timestamptz) IS TRUE, "#
            + #"left((count(*))::text, 1024), (count(*) = $6::numeric) IS TRUE FROM "public"."users""#, "\(s.sql)")
        #expect(s.parameters == ["^a'b", "0", "150", #"{"active","ba\"nned"}"#, "2026-01-01T00:00:00Z", "10"])
        #expect(slots[0] == ScanSlot(nonNull: 1) && slots[1] == ScanSlot(nonNull: 1, unexpected: 2))
        #expect(slots[4] == ScanSlot(observed: 7, inRange: 8))
    }

    @Test("a hostile column name is one quoted identifier, a hostile value a parameter")
    func injection() throws {
        let e = try check(#"{ "expect": "column_values_to_not_be_in_set", "table": "users", "column": "x\"; DROP TABLE users; --", "values": ["'); DROP TABLE users; --"] }"#)
        let (s, _) = statements.scan(e.table, [e])
        #expect(s.sql == #"SELECT count(*), count("x""; DROP TABLE users; --"), count(*) FILTER (WHERE "x""; DROP TABLE users; --" IS NOT NULL AND ("x""; DROP TABLE users; --" = ANY ($1))) FROM "users""#, "\(s.sql)")
        #expect(!s.sql.contains("');"))
        #expect(s.parameters == [#"{"'); DROP TABLE users; --"}"#])
        let t = TableName(parsing: #"evil"; DROP.t"#)
        #expect(t?.quoted == #""evil""; DROP"."t""#)
        #expect(statements.catalog(TableName(name: "users")).parameters == [#""users""#])
    }

    @Test("uniqueness and unexpected values: grouped queries, at most 20 values cut at 200 characters")
    func otherStatements() throws {
        let u = try check(#"{ "expect": "column_values_to_be_unique", "table": "users", "column": "email" }"#)
        #expect(statements.duplicates(u.table, column: "email").sql
            == #"SELECT coalesce(sum(n), 0) FROM (SELECT count(*) AS n FROM "users" WHERE "email" IS NOT NULL GROUP BY "email" HAVING count(*) > 1) d"#)
        let values = try #require(statements.unexpectedValues(u.table, u))
        #expect(values.sql.hasPrefix(#"SELECT left("email"::text, 201) FROM "users" WHERE "email" IN (SELECT"#) && values.sql.hasSuffix("LIMIT 20"))
        let nn = try check(#"{ "expect": "column_values_to_not_be_null", "table": "users", "column": "email" }"#)
        #expect(statements.unexpectedValues(nn.table, nn) == nil, "NULLs are known without a query")
        let lengths = try check(#"{ "expect": "column_value_lengths_to_be_between", "table": "users", "column": "email", "max_value": 10 }"#)
        #expect(statements.unexpectedValues(lengths.table, lengths)?.sql
            == #"SELECT left("email"::text, 201) FROM "users" WHERE "email" IS NOT NULL AND (NOT (char_length("email"::text) <= $1::numeric)) LIMIT 20"#)
    }

    @Test("results as Great Expectations computes them")
    func results() {
        // not_be_null: over every row, no missing_count; an empty table passes.
        let nn = ExpectationResult.overAllRows(rows: 10, unexpected: 2, mostly: 0.8)
        #expect(nn.success && nn.elementCount == 10 && nn.unexpectedPercent == 20 && nn.missingCount == nil)
        #expect(!ExpectationResult.overAllRows(rows: 10, unexpected: 3, mostly: 0.8).success)
        #expect(ExpectationResult.overAllRows(rows: 0, unexpected: 0, mostly: 1).success)
        // Value checks: over non-NULL rows; missing_count; percentage over non-NULL rows.
        let v = ExpectationResult.overNonNullRows(rows: 10, nonNull: 8, unexpected: 1, mostly: 0.875)
        #expect(v.success && v.missingCount == 2 && v.unexpectedPercent == 12.5)
        #expect(!ExpectationResult.overNonNullRows(rows: 10, nonNull: 8, unexpected: 2, mostly: 0.875).success)
        #expect(ExpectationResult.overNonNullRows(rows: 10, nonNull: 0, unexpected: 0, mostly: 1).success, "all NULL: vacuously true")
        #expect(ExpectationResult.overNonNullRows(rows: 3, nonNull: 0, unexpected: 0, mostly: 1).unexpectedPercent == nil)
        // Aggregates fail on NULL.
        #expect(!ExpectationResult.aggregate(observed: nil, inRange: false, expected: "≥ 1").success)
        #expect(ExpectationResult.aggregate(observed: "59.3333", inRange: true, expected: "").observedValue == .number(59.3333))
        #expect(ExpectationResult.aggregate(observed: "2026-01-01 00:00:00+00", inRange: true, expected: "").observedValue
            == .string("2026-01-01 00:00:00+00"))
        // Columns.
        let cols = ExpectationResult.columns(.matchSet(["id", "email"], exact: true), actual: ["id", "email", "age"], table: TableName(name: "u"))
        #expect(!cols.success && cols.reason == "unexpected: age")
        #expect(ExpectationResult.columns(.matchSet(["id", "email"], exact: false), actual: ["id", "email", "age"], table: TableName(name: "u")).success)
        #expect(!ExpectationResult.columns(.exists(column: "age", index: 0), actual: ["id", "age"], table: TableName(name: "u")).success)
    }

    @Test("the report entry carries GE's fields; JSON keys in snake_case; old entries decode")
    func reportFields() throws {
        var entry = DrillReport.Check(name: "n", sql: "", expected: "", passed: false, seconds: 0)
        var r = ExpectationResult.overNonNullRows(rows: 10, nonNull: 8, unexpected: 1, mostly: 1)
        r.partialUnexpectedList = [.string("x"), .null]
        r.record(into: &entry)
        entry.expectation = "expect_column_values_to_match_regex"
        let data = try DrillReport.encoder().encode(entry)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["element_count"] as? Int == 10 && object["unexpected_count"] as? Int == 1)
        #expect(object["unexpected_percent"] as? Double == 12.5 && object["missing_count"] as? Int == 2)
        #expect(object["expectation"] as? String == "expect_column_values_to_match_regex")
        let list = try #require(object["partial_unexpected_list"] as? [Any])
        #expect(list.count == 2 && list[0] as? String == "x" && list[1] is NSNull)
        let json = String(decoding: data, as: UTF8.self)
        let back = try DrillReport.decoder().decode(DrillReport.Check.self, from: Data(json.utf8))
        #expect(back == entry)
        #expect(entry.observed == "1 unexpected of 10 rows (12.50%), 2 NULL")
        #expect(entry.unexpectedSample == #""x", NULL"#)
    }
}
