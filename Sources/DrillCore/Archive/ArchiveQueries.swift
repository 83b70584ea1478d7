import Foundation

/// What the commands read from an archive, at a cost that grows with what they need, not with the archive's age:
/// `due`, `plan` and the metrics need each drill's newest reports (read from the chain's newest entry backwards until
/// every drill is found, so the chain stays the only source of truth); `history` and `report` need the reports of
/// one period (read from its month folders only). See docs/archive.md and docs/performance.md.
extension ReportArchive {
    /// Reports read while walking the chain backwards, per drill, newest first.
    public struct Newest: Sendable {
        /// Per drill, the reports read, newest first: down to the first one that made `enough` true (or all of them).
        public var byDrill: [String: [DrillReport]] = [:]
        /// Chain entries whose report is gone, unreadable or does not match the digest its entry recorded: skipped.
        /// `drill archive verify` says what happened to them.
        public var skipped: [String] = []
        /// How many chain entries and reports were read (the cost, for docs/performance.md and the tests).
        public var entriesRead = 0
        public var reportsRead = 0

        /// Every report read, oldest first.
        public var all: [DrillReport] { byDrill.values.flatMap { $0 }.sorted { $0.startedAt < $1.startedAt } }
    }

    /// Walks the chain from its newest entry backwards and reads, for each drill in `drills` (nil: every drill with a
    /// report file in the archive), its reports newest first until `enough` holds for the ones read so far. Stops as
    /// soon as every such drill has enough, so a monthly fleet reads about one report per drill.
    ///
    /// A drill is looked for only when a report file of it exists (its name is in the report's path), so a configured
    /// drill that never ran does not make the walk read the whole chain. A report is read only when its JSON matches
    /// the digest its chain entry recorded; one that does not is skipped and named in `skipped`.
    public func newest(drills: Set<String>?, batch: Int = 32,
                       enough: @escaping @Sendable (_ newestFirst: [DrillReport]) -> Bool) async throws -> Newest {
        let files = try await storage.list()
        var present = Set<String>()
        var last = 0
        for path in files {
            if let seq = ChainEntry.sequence(ofPath: path) { last = max(last, seq) }
            else if let drill = ReportPath.drill(ofPath: path) { present.insert(drill) }
        }
        var pending = drills.map { present.intersection($0) } ?? present
        var out = Newest()
        var next = last
        while !pending.isEmpty, next >= 1 {
            let sequences = Array(stride(from: next, to: max(next - batch, 0), by: -1))
            next -= sequences.count
            let entries = try await readConcurrently(sequences) { seq in
                ChainEntry.parse(try await self.storage.read(ChainEntry.path(sequence: seq)), sequence: seq)
            }
            out.entriesRead += sequences.count
            // The batch's entries of drills still pending, per drill newest first, read in rounds: the newest of each
            // such drill, then (only for drills that still need more) the next one, so a batch reads no report it
            // does not need.
            var queues: [String: [ChainEntry]] = [:]
            var order: [String] = []
            for e in entries.compactMap({ $0 }) {
                let key = ReportPath.drill(ofPath: e.jsonPath) ?? e.jsonPath
                guard ReportPath.drill(ofPath: e.jsonPath).map(pending.contains) ?? true else { continue }
                if queues[key] == nil { order.append(key) }
                queues[key, default: []].append(e)
            }
            var round = 0
            while true {
                let wanted = order.compactMap { key -> ChainEntry? in
                    guard let q = queues[key], round < q.count else { return nil }
                    if let drill = ReportPath.drill(ofPath: q[round].jsonPath), !pending.contains(drill) { return nil }
                    return q[round]
                }
                if wanted.isEmpty { break }
                round += 1
                let reports = try await readConcurrently(wanted) { e -> DrillReport? in
                    guard let data = try? await self.storage.read(e.jsonPath), self.digest(data) == e.jsonSHA256 else { return nil }
                    return try? DrillReport.decoder().decode(DrillReport.self, from: data)
                }
                out.reportsRead += wanted.count
                for (e, report) in zip(wanted, reports) {
                    guard let report else {
                        out.skipped.append(e.jsonPath)
                        continue
                    }
                    guard pending.contains(report.drill) else { continue }
                    out.byDrill[report.drill, default: []].append(report)
                    if enough(out.byDrill[report.drill]!) { pending.remove(report.drill) }
                }
            }
            for (seq, e) in zip(sequences, entries) where e == nil { out.skipped.append(ChainEntry.path(sequence: seq)) }
        }
        return out
    }

    /// The JSON reports of the months that overlap `range` (nil: every month), optionally of one drill, oldest first;
    /// files that do not decode come back in `unreadable`. Reads only those months' folders, so a year's report costs
    /// the same in a 4-year-old archive as in a 1-year-old one. Reports outside `range` are dropped after reading.
    public func reports(in range: Range<Date>?, drill: String? = nil) async throws
        -> (reports: [(path: String, report: DrillReport)], unreadable: [String]) {
        var paths: [String] = []
        if let range {
            for month in ReportPath.months(overlapping: range) {
                paths += try await storage.list(under: month).filter(Self.isReportPath)
            }
        } else {
            paths = try await storage.list().filter(Self.isReportPath)
        }
        if let drill { paths = paths.filter { ReportPath.drill(ofPath: $0).map { $0 == drill } ?? true } }
        let decoded = try await readConcurrently(paths.sorted()) { path -> DrillReport? in
            try? DrillReport.decoder().decode(DrillReport.self, from: try await self.storage.read(path))
        }
        var out: [(path: String, report: DrillReport)] = []
        var bad: [String] = []
        for (path, report) in zip(paths.sorted(), decoded) {
            guard let report else { bad.append(path); continue }
            if let range, !range.contains(report.startedAt) { continue }
            if let drill, report.drill != drill { continue }
            out.append((path, report))
        }
        out.sort { $0.report.startedAt < $1.report.startedAt }
        return (out, bad)
    }

    /// Per drill, the start of its oldest report, from the report paths alone (no report is read): what the audit
    /// report needs of the time before its period (a drill's schedule is owed only from its first run).
    public func firstRuns() async throws -> [String: Date] {
        var out: [String: Date] = [:]
        for path in try await storage.list() where Self.isReportPath(path) {
            guard let drill = ReportPath.drill(ofPath: path), let at = ReportPath.startedAt(ofPath: path) else { continue }
            if out[drill].map({ at < $0 }) ?? true { out[drill] = at }
        }
        return out
    }

}

/// Runs `read` on every item with up to `width` reads in flight (an S3 archive answers each GET after a round trip;
/// a local one spreads hashing and JSON decoding over the cores), returning the results in the items' order.
func readConcurrently<T: Sendable, R: Sendable>(_ items: [T], width: Int = 8,
                                                _ read: @escaping @Sendable (T) async throws -> R) async throws -> [R] {
    var results = [R?](repeating: nil, count: items.count)
    try await withThrowingTaskGroup(of: (Int, R).self) { group in
        var started = 0
        while started < min(width, items.count) {
            let i = started
            group.addTask { (i, try await read(items[i])) }
            started += 1
        }
        while let (i, r) = try await group.next() {
            results[i] = r
            if started < items.count {
                let j = started
                group.addTask { (j, try await read(items[j])) }
                started += 1
            }
        }
    }
    return results.map { $0! }
}

/// What a report's path says: `2026/11/<drill>-<YYYYMMDDTHHMMSSZ>[-<n>].json` (`ReportArchive.stem`).
public enum ReportPath {
    /// The drill a report path names; nil when the path is not laid out as `ReportArchive.stem` lays it out.
    public static func drill(ofPath path: String) -> String? { parse(path)?.drill }

    /// The report's start, to the second, from its path.
    public static func startedAt(ofPath path: String) -> Date? {
        guard let stamp = parse(path)?.stamp else { return nil }
        let c = Array(stamp.utf8).map { Int($0) - 48 }
        func n(_ r: Range<Int>) -> Int { r.reduce(0) { $0 * 10 + c[$1] } }
        var parts = DateComponents()
        (parts.year, parts.month, parts.day) = (n(0..<4), n(4..<6), n(6..<8))
        (parts.hour, parts.minute, parts.second) = (n(9..<11), n(11..<13), n(13..<15))
        return utc.date(from: parts)
    }

    /// The month folders (`2026/11`) of every month that overlaps `range`, oldest first.
    public static func months(overlapping range: Range<Date>) -> [String] {
        guard !range.isEmpty else { return [] }
        var c = utc.dateComponents([.year, .month], from: range.lowerBound)
        // The range ends before its upper bound: a range ending at a month's first instant does not reach that month.
        let end = utc.dateComponents([.year, .month], from: range.upperBound.addingTimeInterval(-0.001))
        var out: [String] = []
        while let y = c.year, let m = c.month, (y, m) <= (end.year!, end.month!), out.count < 12 * 200 {
            out.append(String(format: "%04d/%02d", y, m))
            (c.year, c.month) = m == 12 ? (y + 1, 1) : (y, m + 1)
        }
        return out
    }

    static let utc: Calendar = {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "UTC")!
        return cal
    }()

    static func parse(_ path: String) -> (drill: String, stamp: Substring)? {
        guard path.hasSuffix(".json"), let slash = path.lastIndex(of: "/") else { return nil }
        var name = path[path.index(after: slash)..<path.index(path.endIndex, offsetBy: -5)]
        // A second report of the same drill in the same second gets `-2`, `-3`, …
        if let dash = name.lastIndex(of: "-"), name[name.index(after: dash)...].allSatisfy { ("0"..."9").contains($0) },
           name.index(after: dash) < name.endIndex, isStamp(name[..<dash].suffix(16)) {
            name = name[..<dash]
        }
        let stamp = name.suffix(16)
        guard isStamp(stamp), name.count > 17, name[name.index(name.endIndex, offsetBy: -17)] == "-" else { return nil }
        return (String(name.dropLast(17)), stamp)
    }

    /// `YYYYMMDDTHHMMSSZ`.
    static func isStamp(_ s: Substring) -> Bool {
        let u = Array(s.utf8)
        guard u.count == 16, u[8] == UInt8(ascii: "T"), u[15] == UInt8(ascii: "Z") else { return false }
        return u[0..<8].allSatisfy { (48...57).contains($0) } && u[9..<15].allSatisfy { (48...57).contains($0) }
    }
}
