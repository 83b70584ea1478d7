import Foundation

/// A message for a Slack-compatible incoming webhook: a JSON POST of `{"text": …}`.
public struct Alert: Sendable, Equatable {
    public var webhook: String
    public var text: String

    public init(webhook: String, text: String) {
        self.webhook = webhook
        self.text = text
    }

    /// The request body.
    public func body() -> Data {
        (try? JSONSerialization.data(withJSONObject: ["text": text], options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
    }
}

/// Posts a JSON body to a webhook URL; throws on a transport error or a non-2xx answer. Live: `CurlWebhookPoster`.
public protocol WebhookPoster: Sendable {
    func post(_ body: Data, to url: String, timeoutSeconds: Double) async throws
}

/// Which webhook a drill's alerts go to: the drill file's `alerts.webhook`, else its tier's, else the top-level one in
/// `tiers.json`; nil when none is set.
public func webhook(for drill: DrillConfig?, tier: String, in tiers: TiersFile) -> String? {
    drill?.alerts?.webhook ?? tiers.tiers[tier]?.alerts?.webhook ?? tiers.alerts?.webhook
}

/// The alerts a finished run raises: one when it was non-compliant, failed or aborted, none when compliant.
public func alert(for report: DrillReport, config: ConfigFolder) -> Alert? {
    guard report.status != .compliant,
          let hook = webhook(for: config.drills.first { $0.name == report.drill }, tier: report.tier, in: config.tiers)
    else { return nil }
    var text = "drill \(report.drill) [\(report.tier)]: \(MarkdownReport.verdict(report.status)) at \(RFC3339.format(report.finishedAt))"
    text += " — RTO \(report.measured.rtoSeconds.map(formatSeconds) ?? "not reached") (target \(DrillDuration(seconds: report.target.rtoSeconds)))"
    text += ", RPO \(report.measured.rpoSeconds.map(formatSeconds) ?? "unknown") (target \(DrillDuration(seconds: report.target.rpoSeconds)))"
    for f in report.findings.prefix(5) { text += "\n• \(f)" }
    if report.findings.count > 5 { text += "\n• … \(report.findings.count - 5) more in the report" }
    return Alert(webhook: hook, text: text)
}

/// The alert for a drill that missed at least one whole schedule period (nil when it only owes the current one).
public func alert(forMissed due: DueDrill, config: ConfigFolder) -> Alert? {
    guard due.missedPeriods > 0,
          let hook = webhook(for: config.drills.first { $0.name == due.drill }, tier: due.tier, in: config.tiers) else { return nil }
    return Alert(webhook: hook, text: "drill \(due.drill) [\(due.tier)]: MISSED — schedule \(due.schedule), last run "
        + "\(due.lastRun.map { RFC3339.format($0) } ?? "never"), \(due.missedPeriods) period\(due.missedPeriods == 1 ? "" : "s") passed without a run")
}
