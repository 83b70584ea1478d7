import DrillCore
import Foundation
import Testing

@Suite("Expectation parsing")
struct ExpectationParsingTests {
    let tiers: [String: TierConfig] = ["critical": TierConfig(name: "critical", rto: .init(seconds: 3600), rpo: .init(seconds: 300))]

    func parse(_ checks: String) throws -> (DrillConfig?, [String]) {
        let r = ConfigReader(file: "drills/x.json")
        let json = #"{ "version": 1, "tier": "critical", "backup": { "location": "/b" }, "checks": "# + checks + " }"
        let d = DrillConfig.parse(try JSONValue.parse(Data(json.utf8)), name: "x", file: "drills/x.json", tiers: tiers, reader: r)
        return (d, r.issues.map(\.description))
    }

    @Test("the issue's inline expectations parse next to an SQL check, short keys mapped to GE's kwargs")
    func inline() throws {
        let (d, issues) = try parse(#"""
            [ { "name": "email present", "expect": "column_values_to_not_be_null", "table": "users", "column": "email" },
              { "name": "email format", "expect": "column_values_to_match_regex", "table": "users", "column": "email",
                "regex": "^[^@]+@[^@]+\\.[a-z]+$", "mostly": 0.99 },
              { "name": "age range", "expect": "expect_column_values_to_be_between", "table": "users", "column": "age", "min": 0, "max": 150 },
              { "name": "known status", "expect": "column_values_to_be_in_set", "table": "users", "column": "status", "values": ["active", "banned"] },
              { "name": "some users", "expect": "table_row_count_to_be_between", "table": "users", "min": 1 },
              { "name": "newest order", "expect": "column_max_to_be_between", "table": "public.orders", "column": "created_at", "min": "rpo" },
              { "name": "balances add up", "sql": "SELECT sum(abalance) FROM pgbench_accounts", "expect": { "equals": 0 } } ]
            """#)
        #expect(issues.isEmpty, "\(issues)")
        let checks = try #require(d).checks
        #expect(checks.count == 7)
        #expect(checks[0].expectation?.type == "expect_column_values_to_not_be_null")
        #expect(checks[1].expectation?.mostly == 0.99)
        #expect(checks[2].expectation?.kwargs["min_value"] == .number(0))
        #expect(checks[5].expectation?.table == TableName(schema: "public", name: "orders"))
        guard case .aggregate("max", "created_at", let range)? = checks[5].expectation?.rule else {
            Issue.record("not an aggregate")
            return
        }
        #expect(range.min == .rpo)
        #expect(checks[6].expectation == nil && checks[6].sql.hasPrefix("SELECT sum"))
        #expect(checks[4].expectation?.describe(rpo: nil) == "expect_table_row_count_to_be_between on users: ≥ 1")
    }

    @Test("every kind the issue names is registered, with and without the expect_ prefix")
    func registry() {
        let names = ["column_values_to_not_be_null", "column_values_to_be_null", "column_values_to_be_unique",
                     "column_values_to_match_regex", "column_values_to_not_match_regex", "column_values_to_be_between",
                     "column_values_to_be_in_set", "column_values_to_not_be_in_set", "column_value_lengths_to_be_between",
                     "column_min_to_be_between", "column_max_to_be_between", "column_mean_to_be_between",
                     "table_row_count_to_be_between", "table_row_count_to_equal", "table_columns_to_match_set", "column_to_exist"]
        #expect(Set(ExpectationRegistry.kinds.map(\.name)) == Set(names))
        for n in names {
            #expect(ExpectationRegistry.kind(named: n) != nil && ExpectationRegistry.kind(named: "expect_" + n)?.name == n)
        }
        #expect(ExpectationRegistry.kind(named: "expect_column_values_to_be_dateutil_parseable") == nil)
    }

    @Test("problems name the check and key: unknown type, unknown kwarg, missing column, bad mostly, no bounds, sql on an expectation")
    func problems() throws {
        let (_, issues) = try parse(#"""
            [ { "name": "a", "expect": "column_values_to_be_dateutil_parseable", "table": "users", "column": "d" },
              { "name": "b", "expect": "column_values_to_be_unique", "table": "users", "column": "e", "row_condition": "x > 1" },
              { "name": "c", "expect": "column_values_to_not_be_null", "table": "users" },
              { "name": "d", "expect": "column_values_to_be_null", "table": "users", "column": "e", "mostly": 1.5 },
              { "name": "e", "expect": "column_values_to_be_between", "table": "users", "column": "e" },
              { "name": "f", "expect": "table_row_count_to_equal", "table": "users", "value": 1, "sql": "SELECT 1" },
              { "name": "g", "expect": "column_values_to_be_in_set", "table": "users", "column": "e", "values": "active" },
              { "name": "h", "expect": "table_row_count_to_equal", "table": ".users", "value": 1 } ]
            """#)
        let text = issues.joined(separator: "\n")
        #expect(text.contains(#"checks[0]: unsupported expectation type "column_values_to_be_dateutil_parseable""#), "\(text)")
        #expect(text.contains("checks[1].row_condition: not a kwarg of column_values_to_be_unique"), "\(text)")
        #expect(text.contains("checks[2].column: missing required key"), "\(text)")
        #expect(text.contains("checks[3].mostly: must be from 0 to 1"), "\(text)")
        #expect(text.contains("checks[4]: give min_value, max_value or both"), "\(text)")
        #expect(text.contains("checks[5].sql: an expectation check has no sql"), "\(text)")
        #expect(text.contains("checks[6].value_set: expected an array"), "\(text)")
        #expect(text.contains("checks[7].table: expected table or schema.table"), "\(text)")
    }

    @Test("GE 1.x and 0.x suite files: names from meta or suite + type + column, repeats numbered, null bounds ignored")
    func suites() throws {
        let v1 = #"""
            { "name": "users", "id": "abc", "meta": {}, "notes": null,
              "expectations": [
                { "type": "expect_column_values_to_not_be_null", "kwargs": { "column": "email" }, "meta": { "name": "email present" }, "id": "1" },
                { "type": "expect_column_values_to_be_unique", "kwargs": { "column": "email" }, "meta": {} },
                { "type": "expect_column_values_to_be_unique", "kwargs": { "column": "email", "mostly": 0.5 }, "meta": {} },
                { "type": "expect_table_row_count_to_be_between", "kwargs": { "min_value": 1, "max_value": null } } ] }
            """#
        let v0 = #"""
            { "expectation_suite_name": "legacy", "ge_cloud_id": null, "data_asset_type": null,
              "expectations": [ { "expectation_type": "expect_column_to_exist", "kwargs": { "column": "id", "result_format": "BASIC" }, "meta": {} } ] }
            """#
        let r = ConfigReader(file: "suites/users.json")
        let table = TableName(schema: "public", name: "users")
        let one = try #require(GESuiteFile.parse(try JSONValue.parse(Data(v1.utf8)), reader: r)).checks(on: table, skipUnsupported: false, reader: r)
        let zero = try #require(GESuiteFile.parse(try JSONValue.parse(Data(v0.utf8)), reader: r)).checks(on: table, skipUnsupported: false, reader: r)
        #expect(r.issues.isEmpty, "\(r.issues)")
        #expect(one.map(\.name) == ["email present", "users: expect_column_values_to_be_unique(email)",
                                    "users: expect_column_values_to_be_unique(email) #2", "users: expect_table_row_count_to_be_between"])
        guard case .aggregate("count", nil, let range)? = one[3].expectation?.rule else {
            Issue.record("not a row count")
            return
        }
        #expect(range.min == .value(.number(1)) && range.max == nil)
        #expect(zero.map(\.name) == ["legacy: expect_column_to_exist(id)"])
    }

    @Test("an unsupported type in a suite is an issue of the suite file naming it, or a skipped check with skip")
    func unsupportedInSuite() throws {
        let suite = #"{ "name": "s", "expectations": [ { "type": "expect_column_values_to_be_json_parseable", "kwargs": { "column": "j" } } ] }"#
        let r = ConfigReader(file: "suites/s.json")
        let parsed = try #require(GESuiteFile.parse(try JSONValue.parse(Data(suite.utf8)), reader: r))
        _ = parsed.checks(on: TableName(name: "t"), skipUnsupported: false, reader: r)
        #expect(r.issues.map(\.description).contains { $0.contains("suites/s.json") && $0.contains("expect_column_values_to_be_json_parseable") },
                "\(r.issues)")
        let r2 = ConfigReader(file: "suites/s.json")
        let skipped = parsed.checks(on: TableName(name: "t"), skipUnsupported: true, reader: r2)
        #expect(r2.issues.isEmpty && skipped.count == 1 && skipped[0].expectation?.skipped?.contains("not supported") == true)
    }
}
