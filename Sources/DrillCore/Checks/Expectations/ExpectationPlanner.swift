import Foundation

/// Runs a drill's expectation checks table by table, with as few statements as their kinds allow: the table's catalog
/// (does it exist, its columns), one scan computing every count and aggregate, one grouped query per uniqueness
/// expectation, and one short query per map expectation that found unexpected values (to list up to 20 of them).
/// A scan that fails is retried one expectation at a time, so each gets its own error.
public struct ExpectationPlanner: Sendable {
    public var drillStart: Date
    public var rpo: DrillDuration

    public init(drillStart: Date, rpo: DrillDuration) {
        self.drillStart = drillStart
        self.rpo = rpo
    }

    public var statements: ExpectationStatements {
        ExpectationStatements(rpoInstant: RFC3339.format(drillStart.addingTimeInterval(-Double(rpo.seconds))))
    }

    /// The report entries of the expectation checks among `checks`, by index in `checks` (SQL checks are not
    /// touched). `elapsed` reads a clock in seconds; a table's time is shared out among its checks.
    public func run(_ checks: [CheckConfig], on db: any QueryExecutor, elapsed: @Sendable () -> Double) async
        -> [Int: DrillReport.Check] {
        var groups: [(table: TableName, items: [Int])] = []
        for (i, check) in checks.enumerated() {
            guard let e = check.expectation else { continue }
            if let g = groups.firstIndex(where: { $0.table == e.table }) { groups[g].items.append(i) }
            else { groups.append((e.table, [i])) }
        }
        var out: [Int: DrillReport.Check] = [:]
        for group in groups {
            if Task.isCancelled { break }
            let t0 = elapsed()
            let timeout = group.items.map { checks[$0].timeout }.max { $0.seconds < $1.seconds } ?? DrillDuration(seconds: 60)
            let items = group.items.map { (index: $0, check: checks[$0].expectation!) }
            let results = await TableRun(table: group.table, statements: statements, db: db, timeout: timeout)
                .results(items.filter { $0.check.rule != nil })
            let share = group.items.isEmpty ? 0 : (elapsed() - t0) / Double(group.items.count)
            for (index, e) in items {
                let check = checks[index]
                var entry = DrillReport.Check(name: check.name, sql: statements.shown(e), expected: e.describe(rpo: rpo),
                                              passed: false, seconds: share)
                entry.expectation = e.type
                if let why = e.skipped {
                    entry.passed = true
                    entry.skipped = true
                    entry.observed = "skipped"
                    entry.error = why
                } else {
                    (results[index] ?? .error("not run")).record(into: &entry)
                }
                out[index] = entry
            }
        }
        return out
    }
}

/// The statements of one table, run in order.
struct TableRun {
    var table: TableName
    var statements: ExpectationStatements
    var db: any QueryExecutor
    var timeout: DrillDuration

    func query(_ s: SQLStatement, maxRows: Int = 1) async throws -> [[String?]] {
        try await db.rows(s.sql, parameters: s.parameters, timeout: timeout, maxRows: maxRows)
    }

    func results(_ items: [(index: Int, check: ExpectationCheck)]) async -> [Int: ExpectationResult] {
        var out: [Int: ExpectationResult] = [:]
        guard !items.isEmpty else { return out }
        let catalog: [[String?]]
        do {
            catalog = try await query(statements.catalog(table), maxRows: 1700)
        } catch {
            for item in items { out[item.index] = .error(describe(error)) }
            return out
        }
        guard catalog.first?.first == "t" else {
            for item in items { out[item.index] = .error("table \(table) does not exist") }
            return out
        }
        let columns = catalog.compactMap { $0.count > 1 ? $0[1] : nil }
        var scanned: [(index: Int, check: ExpectationCheck)] = []
        for item in items {
            if case .columns(let rule)? = item.check.rule {
                out[item.index] = .columns(rule, actual: columns, table: table)
            } else if let c = item.check.column, !columns.contains(c) {
                out[item.index] = .error("column \"\(c)\" does not exist in \(table)")
            } else {
                scanned.append(item)
            }
        }
        guard !scanned.isEmpty else { return out }
        do {
            try await scan(scanned, into: &out)
        } catch {
            guard scanned.count > 1 else {
                out[scanned[0].index] = .error(describe(error))
                return out
            }
            for item in scanned {
                do { try await scan([item], into: &out) } catch { out[item.index] = .error(describe(error)) }
            }
        }
        return out
    }

    /// One scan for `items`, then their uniqueness counts and unexpected values.
    private func scan(_ items: [(index: Int, check: ExpectationCheck)], into out: inout [Int: ExpectationResult]) async throws {
        let (statement, slots) = statements.scan(table, items.map(\.check))
        guard let row = try await query(statement).first else { throw DrillError(.unsupported, "the scan returned no row") }
        func int(_ i: Int?) -> Int { i.flatMap { row[$0] }.flatMap { Int($0) } ?? 0 }
        let rows = int(0)
        for (item, slot) in zip(items, slots) {
            let e = item.check
            var result: ExpectationResult
            switch e.rule {
            case .nullRows?:
                result = .overAllRows(rows: rows, unexpected: rows - int(slot.nonNull), mostly: e.mostly)
            case .nonNullRows?:
                result = .overAllRows(rows: rows, unexpected: int(slot.nonNull), mostly: e.mostly)
            case .condition?:
                result = .overNonNullRows(rows: rows, nonNull: int(slot.nonNull), unexpected: int(slot.unexpected), mostly: e.mostly)
            case .duplicates(let column)?:
                let dups = try await query(statements.duplicates(table, column: column)).first?.first ?? nil
                result = .overNonNullRows(rows: rows, nonNull: int(slot.nonNull), unexpected: dups.flatMap { Int($0) } ?? 0,
                                          mostly: e.mostly)
            case .aggregate?:
                result = .aggregate(observed: slot.observed.flatMap { row[$0] }, inRange: slot.inRange.flatMap { row[$0] } == "t",
                                    expected: e.kind?.describe(rpo: nil) ?? "")
            case .columns?, nil:
                continue
            }
            if let u = result.unexpectedCount, u > 0 { result.partialUnexpectedList = try await unexpectedValues(e, count: u) }
            out[item.index] = result
        }
    }

    private func unexpectedValues(_ e: ExpectationCheck, count: Int) async throws -> [JSONValue] {
        guard let s = statements.unexpectedValues(table, e) else {
            return Array(repeating: .null, count: min(count, ExpectationStatements.partialCount))
        }
        return try await query(s, maxRows: ExpectationStatements.partialCount).map { row in
            guard let v = row.first ?? nil else { return .null }
            return .string(v.count > ExpectationStatements.valueCharacters
                ? String(v.prefix(ExpectationStatements.valueCharacters)) + "…" : v)
        }
    }
}
