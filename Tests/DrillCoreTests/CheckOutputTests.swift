import DrillCore
import DrillTesting
import Foundation
import Testing

@Suite("Bounded check output")
struct CheckOutputTests {
    let evaluator = CheckEvaluator(drillStart: RFC3339.parse("2026-11-28T12:00:00Z")!, rpo: DrillDuration(seconds: 300))

    @Test("a value over 1 KiB is stored cut at a character boundary, with its full length")
    func storedHead() {
        let long = String(repeating: "é", count: 600) + "tail"  // 1,204 bytes; "é" is 2 bytes
        let verdict = evaluator.evaluate(Expectation(matches: "tail$"), result: QueryResult(rows: [[long]]))
        #expect(verdict.passed, "compared on the whole value: \(verdict.reason ?? "")")
        #expect(verdict.observed == String(repeating: "é", count: 512))
        #expect(verdict.observed.utf8.count == 1024)
        #expect(verdict.observedBytes == long.utf8.count && verdict.observedTruncated)
        #expect(CheckOutput.prefix("a€b", maxBytes: 3) == "a")  // "€" is 3 bytes: not cut in half
        #expect(CheckOutput.prefix("a€b", maxBytes: 4) == "a€")
        #expect(CheckOutput.prefix("short", maxBytes: 1024) == "short")
        let small = evaluator.evaluate(Expectation(equals: .string("ok")), result: QueryResult(rows: [["ok"]]))
        #expect(!small.observedTruncated && small.observedBytes == 2)
        #expect(evaluator.evaluate(Expectation(), result: QueryResult(rows: [[nil]])).observedBytes == nil)
    }

    @Test("a value over 1 MiB is not compared (a reason says why) but still counts for rows")
    func tooLargeToCompare() {
        let big = ObservedValue(isNull: false, text: nil, head: "xxxx", byteCount: 100_000_000, sha256: String(repeating: "a", count: 64))
        let result = QueryResult(first: big, rowCount: 1, moreRows: false)
        #expect(evaluator.evaluate(Expectation(rowsMin: 1), result: result).passed)
        let eq = evaluator.evaluate(Expectation(equals: .string("x")), result: result)
        #expect(!eq.passed)
        #expect(eq.reason == "the value is 100000000 bytes: over the 1 MiB a check compares")
        #expect(eq.observed == "xxxx" && eq.observedTruncated && eq.observedSHA256?.count == 64)
    }

    @Test("rows are counted only as far as rows.min and rows.max need; more is said as more")
    func rowCounting() {
        #expect(CheckOutput.rowsToCount(Expectation(equals: .number(1))) == 1)
        #expect(CheckOutput.rowsToCount(Expectation(rowsMin: 10, rowsMax: 3)) == 10)
        let more = QueryResult(first: ObservedValue("1"), rowCount: 6, moreRows: true)
        let v = evaluator.evaluate(Expectation(rowsMax: 5), result: more)
        #expect(v.reason == "more than 5 rows, expected at most 5")
        #expect(v.rows == 6 && v.rowsTruncated)
        #expect(evaluator.evaluate(Expectation(rowsMin: 5), result: more).passed)
        #expect(evaluator.evaluate(Expectation(equals: .number(1)), result: QueryResult(first: ObservedValue("1"), rowCount: 2, moreRows: true)).passed)
        let few = evaluator.evaluate(Expectation(rowsMin: 3), result: QueryResult(rows: [["a"], ["b"]]))
        #expect(few.reason == "2 rows, expected at least 3" && !few.rowsTruncated)
    }

    @Test("a progress line is one line and short; a long error is cut and says its length")
    func lines() {
        #expect(CheckOutput.oneLine("a\nb\tc\\") == #"a\nb\tc\\"#)
        let line = CheckOutput.oneLine(String(repeating: "y", count: 5000))
        #expect(line.utf8.count <= 203 && line.hasSuffix("…") && !line.contains("\n"))
        let error = CheckOutput.boundedError("invalid input syntax for type integer: \"" + String(repeating: "z", count: 5000) + "\"")
        #expect(error.utf8.count < 1100 && error.hasSuffix("(5041 bytes in all)"), "\(error.suffix(40))")
    }

    @Test("the new report fields are snake_case, absent when not set, and decode back")
    func reportFields() throws {
        var check = ReportFixtures.check("big", passed: true, observed: "x")
        var verdict = evaluator.evaluate(Expectation(rowsMax: 5), result: QueryResult(
            first: ObservedValue(isNull: false, text: nil, head: "x", byteCount: 2_000_000, sha256: String(repeating: "b", count: 64)),
            rowCount: 6, moreRows: true))
        verdict.record(into: &check)
        var report = ReportFixtures.report(checks: [check])
        let json = String(decoding: try report.jsonData(), as: UTF8.self)
        for key in ["\"observed_bytes\" : 2000000", "\"observed_sha256\" : \"bbbb", "\"observed_truncated\" : true", "\"rows_truncated\" : true"] {
            #expect(json.contains(key), "missing \(key)")
        }
        #expect(try DrillReport.decoder().decode(DrillReport.self, from: try report.jsonData()) == report)
        report.checks = [ReportFixtures.check("small", passed: true)]
        let plain = String(decoding: try report.jsonData(), as: UTF8.self)
        #expect(!plain.contains("observed_truncated") && !plain.contains("rows_truncated"))
    }
}
