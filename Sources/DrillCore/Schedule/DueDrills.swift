import Foundation

/// A drill whose schedule asks for a run it has not had.
public struct DueDrill: Sendable, Equatable {
    public var drill: String
    public var tier: String
    public var schedule: String
    /// Start of the newest counted run, nil when the drill never ran.
    public var lastRun: Date?
    /// The scheduled instant the drill has not run since: the most recent one at or before now.
    public var dueSince: Date
    /// Whole schedule periods that passed with no run before the current one (0: only the current run is owed).
    public var missedPeriods: Int

    public init(drill: String, tier: String, schedule: String, lastRun: Date?, dueSince: Date, missedPeriods: Int) {
        self.drill = drill
        self.tier = tier
        self.schedule = schedule
        self.lastRun = lastRun
        self.dueSince = dueSince
        self.missedPeriods = missedPeriods
    }
}

/// Whether a report counts as the drill having run: every outcome except `aborted` (an interrupted run gave no
/// evidence, so the drill stays due).
public func countsAsRun(_ report: DrillReport) -> Bool { report.status != .aborted }

/// The drills that are due at `now`, in config order.
///
/// Definition (also in `docs/operations.md`): let `s` be the most recent instant of the tier's schedule at or before
/// `now` (UTC). A drill is **due** when no counted run started at or after `s`. So each schedule period `[s, next s)` owes
/// one run; a drill that never ran is due; a drill that skipped a whole period (a missed month) is due and reports
/// `missedPeriods > 0`, counting the periods after the one of its last run that ended without a run.
public func dueDrills(config: ConfigFolder, reports: [DrillReport], now: Date) -> [DueDrill] {
    var lastRun: [String: Date] = [:]
    for r in reports where countsAsRun(r) {
        if lastRun[r.drill].map({ r.startedAt > $0 }) ?? true { lastRun[r.drill] = r.startedAt }
    }
    var out: [DueDrill] = []
    for d in config.drills {
        guard let tier = config.tiers.tiers[d.tier], let cron = try? CronExpression(parsing: tier.schedule),
              let s = cron.previous(atOrBefore: now) else { continue }
        let last = lastRun[d.name]
        if let last, last >= s { continue }
        out.append(DueDrill(drill: d.name, tier: d.tier, schedule: tier.schedule, lastRun: last, dueSince: s,
                            missedPeriods: last.map { cron.instants(after: $0, before: s, limit: 10_000) } ?? 0))
    }
    return out
}

extension CronExpression {
    /// How many scheduled instants lie strictly between `start` and `end`, counting at most `limit`.
    public func instants(after start: Date, before end: Date, limit: Int) -> Int {
        var n = 0
        var t = start
        while n < limit, let next = next(after: t), next < end {
            n += 1
            t = next
        }
        return n
    }

    /// Schedule periods `[s, next s)` that overlap `range` and ended by `now`, oldest first, at most `limit`.
    public func periods(overlapping range: Range<Date>, endedBy now: Date, limit: Int) -> [Range<Date>] {
        var out: [Range<Date>] = []
        guard var start = previous(atOrBefore: range.lowerBound) ?? next(after: range.lowerBound) else { return [] }
        while out.count < limit, start < range.upperBound, let end = next(after: start), end <= now {
            if end > range.lowerBound { out.append(start..<end) }
            start = end
        }
        return out
    }
}
