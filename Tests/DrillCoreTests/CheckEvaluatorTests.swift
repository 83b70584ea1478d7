import DrillCore
import Foundation
import Testing

@Suite("Check evaluation")
struct CheckEvaluatorTests {
    let start = RFC3339.parse("2026-11-28T12:00:00Z")!
    var evaluator: CheckEvaluator { CheckEvaluator(drillStart: start, rpo: DrillDuration(seconds: 300)) }

    func one(_ v: String?) -> QueryResult { QueryResult(rows: [[v]]) }

    @Test func numbers() {
        #expect(evaluator.evaluate(Expectation(min: 1), result: one("5")).passed)
        #expect(!evaluator.evaluate(Expectation(min: 10), result: one("5")).passed)
        #expect(evaluator.evaluate(Expectation(equals: .number(0)), result: one("0")).passed)
        #expect(evaluator.evaluate(Expectation(equals: .number(1.5)), result: one("1.50")).passed)
        #expect(!evaluator.evaluate(Expectation(max: 3), result: one("abc")).passed)
        #expect(evaluator.evaluate(Expectation(max: 3), result: one("abc")).reason == "not a number")
    }

    @Test func equalsKinds() {
        #expect(evaluator.evaluate(Expectation(equals: .string("ok")), result: one("ok")).passed)
        #expect(!evaluator.evaluate(Expectation(equals: .string("ok")), result: one("OK")).passed)
        #expect(evaluator.evaluate(Expectation(equals: .bool(true)), result: one("t")).passed)
        #expect(evaluator.evaluate(Expectation(equals: .null), result: one(nil)).passed)
        #expect(evaluator.evaluate(Expectation(equals: .null), result: one(nil)).observed == "NULL")
        #expect(!evaluator.evaluate(Expectation(equals: .number(0)), result: one(nil)).passed)
    }

    @Test func freshness() {
        #expect(evaluator.evaluate(Expectation(within: .rpo), result: one("2026-11-28 11:56:00.5+00")).passed)
        let stale = evaluator.evaluate(Expectation(within: .rpo), result: one("2026-11-28 11:54:59+00"))
        #expect(!stale.passed)
        #expect(stale.reason?.contains("limit 5m") == true)
        #expect(evaluator.evaluate(Expectation(within: .duration(.init(seconds: 3600))), result: one("2026-11-28 13:30:00+01:30")).passed)
        #expect(!evaluator.evaluate(Expectation(within: .rpo), result: one("yesterday")).passed)
        #expect(!evaluator.evaluate(Expectation(within: .rpo), result: one(nil)).passed)
    }

    @Test func rowsAndRegex() {
        let three = QueryResult(rows: [["a"], ["b"], ["c"]])
        #expect(evaluator.evaluate(Expectation(rowsMin: 3, rowsMax: 3), result: three).passed)
        #expect(!evaluator.evaluate(Expectation(rowsMax: 2), result: three).passed)
        #expect(evaluator.evaluate(Expectation(rowsMax: 0), result: QueryResult(rows: [])).passed)
        #expect(evaluator.evaluate(Expectation(rowsMax: 0), result: QueryResult(rows: [])).observed == "no rows")
        #expect(!evaluator.evaluate(Expectation(min: 1), result: QueryResult(rows: [])).passed)
        #expect(evaluator.evaluate(Expectation(matches: "^v[0-9]+$"), result: one("v15")).passed)
        #expect(!evaluator.evaluate(Expectation(matches: "^v[0-9]+$"), result: one("x15")).passed)
    }
}
