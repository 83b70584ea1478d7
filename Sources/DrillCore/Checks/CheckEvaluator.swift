import Foundation

/// Compares a check's query result with its expectation. Pure: the drill's start time and the tier's RPO are passed in.
public struct CheckEvaluator: Sendable {
    public var drillStart: Date
    public var rpo: DrillDuration

    public init(drillStart: Date, rpo: DrillDuration) {
        self.drillStart = drillStart
        self.rpo = rpo
    }

    public struct Verdict: Sendable, Equatable {
        public var passed: Bool
        /// What was seen: the first value (`NULL` for null, `no rows` when empty), at most `CheckOutput.storedBytes`.
        public var observed: String
        /// Why it failed, when it did.
        public var reason: String?
        /// The first value's full length in bytes and SHA-256 (nil when there was no non-NULL value).
        public var observedBytes: Int?
        public var observedSHA256: String?
        /// Whether `observed` is only the head of a longer value.
        public var observedTruncated: Bool
        /// Rows read, and whether the result had more (then `rows` is a lower bound).
        public var rows: Int
        public var rowsTruncated: Bool

        /// Copies the verdict into a report's check entry.
        public func record(into entry: inout DrillReport.Check) {
            entry.passed = passed
            entry.observed = observed
            entry.error = reason
            entry.rows = rows
            entry.rowsTruncated = rowsTruncated ? true : nil
            entry.observedBytes = observedBytes
            entry.observedSHA256 = observedSHA256
            entry.observedTruncated = observedTruncated ? true : nil
        }
    }

    public func evaluate(_ e: Expectation, result: QueryResult) -> Verdict {
        let value = result.first
        let observed: String = switch value {
        case .none: "no rows"
        case .some(let v) where v.isNull: "NULL"
        case .some(let v): v.head
        }
        var failures: [String] = []
        if let lo = e.rowsMin, result.rowCount < lo { failures.append("\(result.rowCount) rows, expected at least \(lo)") }
        if let hi = e.rowsMax {
            if result.moreRows, result.rowCount > hi {
                failures.append("more than \(result.rowCount - 1) rows, expected at most \(hi)")
            } else if result.rowCount > hi {
                failures.append("\(result.rowCount) rows, expected at most \(hi)")
            }
        }
        let needsValue = e.equals != nil || e.min != nil || e.max != nil || e.matches != nil || e.within != nil
        if needsValue {
            switch value {
            case .none:
                failures.append("the query returned no rows")
            case .some(let v) where !v.isNull && v.text == nil:
                failures.append("the value is \(v.byteCount) bytes: over the \(CheckOutput.evaluatedBytes >> 20) MiB a check compares")
            case .some(let v):
                failures += valueFailures(e, v.isNull ? nil : v.text)
            }
        }
        let reason = failures.isEmpty ? nil : CheckOutput.boundedError(failures.joined(separator: "; "))
        let real = value.flatMap { $0.isNull ? nil : $0 }
        return Verdict(passed: failures.isEmpty, observed: observed, reason: reason, observedBytes: real?.byteCount,
                       observedSHA256: real?.sha256, observedTruncated: real?.isTruncated ?? false,
                       rows: result.rowCount, rowsTruncated: result.moreRows)
    }

    private func valueFailures(_ e: Expectation, _ v: String?) -> [String] {
        var out: [String] = []
        if let eq = e.equals, !equals(eq, v) { out.append("expected \(eq.compactText)") }
        if e.min != nil || e.max != nil {
            if let v, let n = Double(v.trimmingCharacters(in: .whitespaces)) {
                if let lo = e.min, n < lo { out.append("below the minimum \(JSONValue.number(lo).compactText)") }
                if let hi = e.max, n > hi { out.append("above the maximum \(JSONValue.number(hi).compactText)") }
            } else {
                out.append("not a number")
            }
        }
        if let pattern = e.matches {
            if let v, let re = try? Regex(pattern) {
                if (try? re.firstMatch(in: v)) == nil { out.append("does not match /\(pattern)/") }
            } else {
                out.append("does not match /\(pattern)/")
            }
        }
        if let within = e.within {
            let limit: DrillDuration = switch within {
            case .rpo: rpo
            case .duration(let d): d
            }
            if let v, let t = PostgresTimestamp.parse(v) {
                let age = drillStart.timeIntervalSince(t)
                if age > Double(limit.seconds) {
                    out.append("\(formatSeconds(age)) old at the drill's start, limit \(limit)")
                }
            } else {
                out.append("not a timestamp")
            }
        }
        return out
    }

    private func equals(_ expected: JSONValue, _ v: String?) -> Bool {
        switch expected {
        case .null: return v == nil
        case .bool(let b):
            guard let v else { return false }
            return b ? ["t", "true", "1"].contains(v.lowercased()) : ["f", "false", "0"].contains(v.lowercased())
        case .number(let n):
            guard let v, let d = Double(v.trimmingCharacters(in: .whitespaces)) else { return false }
            return d == n
        case .string(let s): return v == s
        case .array, .object: return false
        }
    }
}
