import Foundation

/// The top of an audit report for a fleet: a matrix of drills × periods coloured by outcome, worst drills first, and
/// the drills closest to a target (headroom: measured / target) or trending towards a breach.
public struct FleetOverview: Sendable {
    /// A cell: the worst outcome of the drill in the period.
    public enum Outcome: String, Sendable, Comparable {
        case compliant, none, aborted, nonCompliant = "non-compliant", missed, failed

        var rank: Int {
            switch self {
            case .compliant: 0
            case .none: 1
            case .aborted: 2
            case .nonCompliant: 3
            case .missed: 4
            case .failed: 5
            }
        }

        public static func < (a: Outcome, b: Outcome) -> Bool { a.rank < b.rank }

        init(_ status: DrillStatus) {
            switch status {
            case .compliant: self = .compliant
            case .nonCompliant: self = .nonCompliant
            case .failed: self = .failed
            case .aborted: self = .aborted
            }
        }
    }

    public struct Row: Sendable {
        public var drill: String
        public var tier: String
        public var cells: [Outcome]
        /// Failed, non-compliant, missed and aborted periods, weighted by severity: the sort key, worst first.
        public var score: Int
    }

    /// The drills nearest a target: the latest measured RTO and RPO against the targets.
    public struct Headroom: Sendable {
        public var drill: String
        public var tier: String
        public var rtoRatio: Double?
        public var rpoRatio: Double?
        /// Runs until the RTO trend crosses the target, when it will within the trend's horizon.
        public var runsToBreach: Int?
        public var worst: Double { max(rtoRatio ?? 0, rpoRatio ?? 0) }
    }

    /// The periods' labels (`2026-03`, or `W12` weeks for short ranges) and bounds.
    public var periods: [(label: String, range: Range<Date>)]
    public var rows: [Row]
    /// Closest to a target first; at most `headroomLimit` drills.
    public var headroom: [Headroom]
    public static let headroomLimit = 15

    public static func build(_ a: AuditReport, missedPeriods: [(drill: String, start: Date)]) -> FleetOverview {
        let periods = Self.periods(a.range.range)
        var rows: [Row] = []
        for d in a.drills {
            var cells = [Outcome](repeating: .none, count: periods.count)
            for r in d.runs {
                guard let i = periods.firstIndex(where: { $0.range.contains(r.startedAt) }) else { continue }
                let o = Outcome(r.status)
                if cells[i] == .none || o > cells[i] { cells[i] = o }
            }
            for m in missedPeriods where m.drill == d.drill {
                if let i = periods.firstIndex(where: { $0.range.contains(m.start) }), cells[i] < .missed { cells[i] = .missed }
            }
            let score = cells.reduce(0) { $0 + max(0, $1.rank - 1) * ($1.rank >= 4 ? 3 : 1) }
            rows.append(Row(drill: d.drill, tier: d.tier, cells: cells, score: score))
        }
        rows.sort { ($0.score, $1.drill) > ($1.score, $0.drill) }
        var headroom: [Headroom] = []
        for d in a.drills {
            guard let last = d.runs.last(where: { $0.restored }) else { continue }
            let rto = last.measured.rtoSeconds.flatMap { d.rtoTarget > 0 ? $0 / d.rtoTarget : nil }
            let rpo = last.measured.rpoSeconds.flatMap { d.rpoTarget > 0 ? max(0, $0) / d.rpoTarget : nil }
            headroom.append(Headroom(drill: d.drill, tier: d.tier, rtoRatio: rto, rpoRatio: rpo, runsToBreach: d.trend?.runsToBreach))
        }
        // Trending towards a breach first, then the smallest headroom.
        headroom.sort { a, b in
            let ta = a.runsToBreach != nil ? 1 : 0, tb = b.runsToBreach != nil ? 1 : 0
            return (ta, a.worst, b.drill) > (tb, b.worst, a.drill)
        }
        return FleetOverview(periods: periods, rows: rows, headroom: Array(headroom.prefix(headroomLimit)))
    }

    /// Calendar months for ranges over 45 days (at most the last 24), else ISO weeks.
    static func periods(_ range: Range<Date>) -> [(label: String, range: Range<Date>)] {
        var cal = Calendar(identifier: .iso8601)
        cal.timeZone = TimeZone(identifier: "UTC")!
        let monthly = range.upperBound.timeIntervalSince(range.lowerBound) > 45 * 86_400
        let unit: Calendar.Component = monthly ? .month : .weekOfYear
        guard var start = cal.dateInterval(of: unit, for: range.lowerBound)?.start else { return [] }
        var out: [(String, Range<Date>)] = []
        while start < range.upperBound {
            guard let next = cal.date(byAdding: unit, value: 1, to: start) else { break }
            let c = cal.dateComponents([.year, .month, .weekOfYear, .yearForWeekOfYear], from: start)
            let label = monthly ? String(format: "%04d-%02d", c.year!, c.month!) : String(format: "W%02d", c.weekOfYear!)
            out.append((label, start..<next))
            start = next
        }
        return Array(out.suffix(24))
    }
}
