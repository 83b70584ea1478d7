import Foundation

/// An expectation's result in Great Expectations' terms, worked out from what the planner's queries counted. Pure.
public struct ExpectationResult: Sendable, Equatable {
    public var success: Bool
    public var elementCount: Int?
    public var unexpectedCount: Int?
    public var unexpectedPercent: Double?
    public var missingCount: Int?
    public var observedValue: JSONValue?
    public var partialUnexpectedList: [JSONValue]?
    /// Why it failed, or the error that kept it from being computed.
    public var reason: String?

    public init(success: Bool, elementCount: Int? = nil, unexpectedCount: Int? = nil, unexpectedPercent: Double? = nil,
                missingCount: Int? = nil, observedValue: JSONValue? = nil, partialUnexpectedList: [JSONValue]? = nil,
                reason: String? = nil) {
        self.success = success
        self.elementCount = elementCount
        self.unexpectedCount = unexpectedCount
        self.unexpectedPercent = unexpectedPercent
        self.missingCount = missingCount
        self.observedValue = observedValue
        self.partialUnexpectedList = partialUnexpectedList
        self.reason = reason
    }

    /// A check that could not be computed (a missing table or column, a query error).
    public static func error(_ message: String) -> ExpectationResult {
        ExpectationResult(success: false, reason: CheckOutput.boundedError(message))
    }

    /// Great Expectations' `_mostly_success`: the share of considered rows that passed is at least `mostly`.
    static func mostlySuccess(considered: Int, unexpected: Int, mostly: Double) -> Bool {
        (Double(considered) - Double(unexpected)) / Double(considered) >= mostly
    }

    /// A map expectation over every row (`…_to_not_be_null`, `…_to_be_null`): no `missing_count`, the percentage over
    /// all rows, and an empty table passes.
    public static func overAllRows(rows: Int, unexpected: Int, mostly: Double) -> ExpectationResult {
        let success = rows == 0 || mostlySuccess(considered: rows, unexpected: unexpected, mostly: mostly)
        var r = ExpectationResult(success: success, elementCount: rows, unexpectedCount: unexpected,
                                  unexpectedPercent: rows > 0 ? Double(unexpected) / Double(rows) * 100 : nil)
        if !success { r.reason = "\(unexpected) of \(rows) rows unexpected" + mostlyText(mostly) }
        return r
    }

    /// A map expectation that ignores NULLs: counted over the non-NULL rows; passes when there are none.
    public static func overNonNullRows(rows: Int, nonNull: Int, unexpected: Int, mostly: Double) -> ExpectationResult {
        let success = rows == 0 || nonNull == 0 || mostlySuccess(considered: nonNull, unexpected: unexpected, mostly: mostly)
        var r = ExpectationResult(success: success, elementCount: rows, unexpectedCount: unexpected,
                                  unexpectedPercent: nonNull > 0 ? Double(unexpected) / Double(nonNull) * 100 : nil,
                                  missingCount: rows - nonNull)
        if !success { r.reason = "\(unexpected) of \(nonNull) non-NULL values unexpected" + mostlyText(mostly) }
        return r
    }

    /// An aggregate (`observed_value`): fails when it is NULL (no non-NULL value) or PostgreSQL found it out of range.
    public static func aggregate(observed: String?, inRange: Bool, expected: String) -> ExpectationResult {
        let value: JSONValue = observed.map { o in Double(o).map { .number($0) } ?? .string(o) } ?? .null
        let success = observed != nil && inRange
        return ExpectationResult(success: success, observedValue: value,
                                 reason: success ? nil : observed == nil ? "no non-NULL value" : "\(observed!) is not \(expected)")
    }

    /// A check on the table's columns (`observed_value`: the column names in order).
    public static func columns(_ rule: ColumnRule, actual: [String], table: TableName) -> ExpectationResult {
        switch rule {
        case .exists(let column, let index):
            guard let at = actual.firstIndex(of: column) else {
                return ExpectationResult(success: false, reason: "column \"\(column)\" is not in \(table)")
            }
            if let index, index != at {
                return ExpectationResult(success: false, reason: "column \"\(column)\" is at index \(at), not \(index)")
            }
            return ExpectationResult(success: true)
        case .matchSet(let expected, let exact):
            let have = Set(actual), want = Set(expected)
            let missing = want.subtracting(have).sorted(), extra = have.subtracting(want).sorted()
            let success = missing.isEmpty && (!exact || extra.isEmpty)
            var why: [String] = []
            if !missing.isEmpty { why.append("missing: " + missing.joined(separator: ", ")) }
            if exact, !extra.isEmpty { why.append("unexpected: " + extra.joined(separator: ", ")) }
            return ExpectationResult(success: success, observedValue: .array(actual.sorted().map { .string($0) }),  // sorted, as GE does
                                     reason: why.isEmpty ? nil : why.joined(separator: "; "))
        }
    }

    private static func mostlyText(_ mostly: Double) -> String {
        mostly < 1 ? " (mostly \(JSONValue.number(mostly).compactText) not reached)" : ""
    }

    /// What a report shows as `observed`: the counts, or the observed value.
    public var observedSummary: String? {
        if let u = unexpectedCount, let n = elementCount {
            var s = "\(u) unexpected of \(n) rows"
            if let p = unexpectedPercent { s += " (\(Self.percentText(p)))" }
            if let m = missingCount { s += ", \(m) NULL" }
            return s
        }
        return observedValue?.compactText
    }

    static func percentText(_ p: Double) -> String {
        p == p.rounded() ? "\(Int(p))%" : String(format: "%.2f%%", p)
    }

    /// Copies the result into a report's check entry.
    public func record(into entry: inout DrillReport.Check) {
        entry.passed = success
        entry.observed = observedSummary
        entry.error = success ? nil : reason
        entry.elementCount = elementCount
        entry.unexpectedCount = unexpectedCount
        entry.unexpectedPercent = unexpectedPercent
        entry.missingCount = missingCount
        entry.observedValue = observedValue
        entry.partialUnexpectedList = partialUnexpectedList
    }
}

extension DrillReport.Check {
    /// The first unexpected values of an expectation, for Markdown and JUnit: `"a", "b", NULL` (nil when none).
    public var unexpectedSample: String? {
        guard let list = partialUnexpectedList, !list.isEmpty else { return nil }
        return list.map { v in if case .string(let s) = v { "\"\(CheckOutput.oneLine(s, maxBytes: 60))\"" } else { "NULL" } }
            .joined(separator: ", ")
    }
}
