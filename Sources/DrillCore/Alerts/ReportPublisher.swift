import Foundation

/// What happens to a finished drill's report, in this order: it is appended to the archive (the hash chain), then
/// an alert goes out when the drill was not compliant. The alert comes second and its delivery is bounded, so a dead
/// webhook can neither lose nor delay the report; neither step throws.
public struct ReportPublisher: Sendable {
    public var archive: ReportArchive
    public var config: ConfigFolder
    /// nil: alerts off.
    public var delivery: AlertDelivery?

    public init(archive: ReportArchive, config: ConfigFolder, delivery: AlertDelivery?) {
        self.archive = archive
        self.config = config
        self.delivery = delivery
    }

    public struct Published: Sendable {
        public var archived: ArchivedReport?
        /// Why the report could not be archived (the run's exit code must then say so).
        public var archiveError: String?
        /// nil when no alert was due or none is configured.
        public var alert: AlertDelivery.Outcome?
    }

    public func publish(_ report: DrillReport) async -> Published {
        var p = Published()
        do {
            p.archived = try await archive.append(report)
        } catch {
            p.archiveError = "\(error)"
        }
        if let delivery, let a = alert(for: report, config: config) {
            p.alert = await delivery.deliver(a)
        }
        return p
    }
}
