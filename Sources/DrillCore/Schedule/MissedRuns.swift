import Foundation

/// A schedule period that ended without a run of a drill ("missed"), or a drill that never ran at all.
public struct MissedRun: Sendable, Equatable {
    public var drill: String
    public var tier: String
    public var schedule: String
    /// The period `[scheduled instant, next instant)` that owed a run; nil when the drill has no run in the archive.
    public var period: Range<Date>?
}

/// Missed runs within `range`: for each configured drill, every schedule period that ended by `now`, overlaps
/// `range`, starts no earlier than the period of the drill's first archived run (before it the drill may not have
/// existed), and holds no counted run (see `countsAsRun`). A drill with no run at all yields one entry with no period.
/// At most `limitPerDrill` periods are examined per drill.
///
/// `firstRuns`, when given, is each drill's first run as the archive records it (`ReportArchive.firstRuns`): then
/// `reports` need only hold the runs inside `range`, and a drill whose runs all lie before the range is still owed
/// every period of the range rather than counted as never having run.
public func missedRuns(config: ConfigFolder, reports: [DrillReport], range: Range<Date>, now: Date,
                       firstRuns: [String: Date]? = nil, limitPerDrill: Int = 5_000) -> [MissedRun] {
    var runs: [String: [Date]] = [:]
    for r in reports where countsAsRun(r) { runs[r.drill, default: []].append(r.startedAt) }
    var out: [MissedRun] = []
    for d in config.drills {
        guard let tier = config.tiers.tiers[d.tier], let cron = try? CronExpression(parsing: tier.schedule) else { continue }
        let starts = runs[d.name]?.sorted() ?? []
        guard let first = [starts.first, firstRuns?[d.name]].compactMap({ $0 }).min() else {
            out.append(MissedRun(drill: d.name, tier: d.tier, schedule: tier.schedule, period: nil))
            continue
        }
        let firstPeriod = cron.previous(atOrBefore: first) ?? first
        let lower = max(range.lowerBound, firstPeriod)
        guard lower < range.upperBound else { continue }
        for p in cron.periods(overlapping: lower..<range.upperBound, endedBy: now, limit: limitPerDrill)
        where p.lowerBound >= firstPeriod && !starts.contains(where: { p.contains($0) }) {
            out.append(MissedRun(drill: d.name, tier: d.tier, schedule: tier.schedule, period: p))
        }
    }
    return out
}
