import Foundation

/// The audit report over a period: compliance per tier, each drill's runs and trend, every failed, non-compliant,
/// aborted or missed drill with its findings, and the archive chain's verification. Rendered by `AuditHTML` and
/// `AuditMarkdown`.
public struct AuditReport: Sendable {
    public var title: String
    public var range: AuditRange
    public var generatedAt: Date
    public var archiveLocation: String
    public var chain: ChainVerification
    public var tiers: [TierCompliance]
    public var drills: [DrillHistory]
    public var problems: [Problem]
    /// The matrix of drills × periods and the drills closest to a target.
    public var fleet: FleetOverview?

    /// Runs, missed periods and the compliance rate of one tier: compliant runs / (runs + missed periods).
    public struct TierCompliance: Sendable, Equatable {
        public var tier: String
        public var runs: Int
        public var compliant: Int
        public var missed: Int
        public var rate: Double? { runs + missed == 0 ? nil : Double(compliant) / Double(runs + missed) }
    }

    public struct DrillHistory: Sendable {
        public var drill: String
        public var tier: String
        /// Oldest first.
        public var runs: [DrillReport]
        public var rtoTarget: Double
        public var rpoTarget: Double
        public var trend: RTOTrend?
        public var missed: Int
    }

    public struct Problem: Sendable, Equatable {
        public enum Kind: String, Sendable { case failed, nonCompliant = "non-compliant", aborted, missed }
        public var kind: Kind
        public var drill: String
        public var tier: String
        /// The run's start, or the missed period's start.
        public var date: Date?
        public var detail: String
        public var findings: [String]
    }

    /// Builds the report from every archived report; `config` adds schedules (missed runs) and current targets.
    public static func build(reports all: [DrillReport], config: ConfigFolder?, chain: ChainVerification, range: AuditRange,
                             now: Date, archiveLocation: String, firstRuns: [String: Date]? = nil) -> AuditReport {
        let reports = all.filter { range.range.contains($0.startedAt) }.sorted { $0.startedAt < $1.startedAt }
        let missed = config.map { missedRuns(config: $0, reports: all, range: range.range, now: now, firstRuns: firstRuns) } ?? []
        var problems: [Problem] = []
        for r in reports where r.status != .compliant {
            let kind: Problem.Kind = r.status == .failed ? .failed : r.status == .aborted ? .aborted : .nonCompliant
            problems.append(Problem(kind: kind, drill: r.drill, tier: r.tier, date: r.startedAt,
                                    detail: MarkdownReport.verdict(r.status), findings: r.findings))
        }
        for m in missed {
            let detail = m.period.map { "no run between \(RFC3339.format($0.lowerBound)) and \(RFC3339.format($0.upperBound)) (schedule \(m.schedule))" }
                ?? "never ran: no report in the archive (schedule \(m.schedule))"
            problems.append(Problem(kind: .missed, drill: m.drill, tier: m.tier, date: m.period?.lowerBound, detail: detail, findings: []))
        }
        problems.sort { ($0.date ?? .distantPast, $0.drill) < ($1.date ?? .distantPast, $1.drill) }

        var names = config?.drills.map { ($0.name, $0.tier) } ?? []
        for r in reports where !names.contains(where: { $0.0 == r.drill }) { names.append((r.drill, r.tier)) }
        var drills: [DrillHistory] = []
        for (name, tier) in names {
            let runs = reports.filter { $0.drill == name }
            let configTier = config?.tiers.tiers[tier]
            let rto = configTier.map { Double($0.rto.seconds) } ?? runs.last.map { Double($0.target.rtoSeconds) } ?? 0
            let rpo = configTier.map { Double($0.rpo.seconds) } ?? runs.last.map { Double($0.target.rpoSeconds) } ?? 0
            drills.append(DrillHistory(drill: name, tier: tier, runs: runs, rtoTarget: rto, rpoTarget: rpo,
                                       trend: RTOTrend.fit(runs.compactMap(\.measured.rtoSeconds), target: rto),
                                       missed: missed.filter { $0.drill == name }.count))
        }
        var tierNames = config.map { Array($0.tiers.tiers.keys) } ?? []
        for r in reports where !tierNames.contains(r.tier) { tierNames.append(r.tier) }
        let tiers = tierNames.sorted().map { t in
            TierCompliance(tier: t, runs: reports.filter { $0.tier == t }.count,
                           compliant: reports.filter { $0.tier == t && $0.status == .compliant }.count,
                           missed: missed.filter { $0.tier == t }.count)
        }
        var report = AuditReport(title: "Disaster-recovery drill audit: \(range.label)", range: range, generatedAt: now,
                                 archiveLocation: archiveLocation, chain: chain, tiers: tiers, drills: drills, problems: problems)
        report.fleet = FleetOverview.build(report, missedPeriods: missed.compactMap { m in m.period.map { (m.drill, $0.lowerBound) } })
        return report
    }
}

extension AuditReport.DrillHistory {
    /// A sentence on the RTO trend: the "time to breach" warning, or why there is none.
    public var trendSentence: String {
        guard let trend else { return "Not enough measured runs for a trend (3 needed)." }
        let per = "\(trend.slopePerRun >= 0 ? "+" : "-")\(formatSeconds(abs(trend.slopePerRun))) per run over the last \(trend.points) runs"
        if let k = trend.runsToBreach {
            var s = "Time to breach: the RTO trend (\(per)) crosses the target \(DrillDuration(seconds: Int64(rtoTarget))) within \(k) run\(k == 1 ? "" : "s")"
            let starts = runs.map(\.startedAt)
            if starts.count >= 2, let last = starts.last {
                let interval = last.timeIntervalSince(starts[max(0, starts.count - trend.points)]) / Double(max(1, trend.points - 1))
                s += ", around \(RFC3339.format(last.addingTimeInterval(interval * Double(k))).prefix(10)) at the recent pace"
            }
            return s + "."
        }
        if let last = runs.last(where: { $0.measured.rtoSeconds != nil })?.measured.rtoSeconds, last > rtoTarget {
            return "RTO is over target (\(per))."
        }
        return "RTO trend \(per): no breach expected within the next \(RTOTrend.horizon) runs."
    }
}
