import DrillCore
import DrillLive
import Foundation

extension RunCommand {
    /// `--metrics-file` (from the whole archive, so every drill appears) and `--junit` (this run), written atomically.
    /// Returns `.failed` for each file that could not be written.
    func writeMetricsAndJUnit(_ reports: [DrillReport], archive: ReportArchive) async -> [DrillCore.ExitCode] {
        var codes: [DrillCore.ExitCode] = []
        if let metricsFile {
            do {
                let all = try await archive.reports().reports.map(\.report)
                try AtomicFile.write(Data(PrometheusMetrics.render(reports: all).utf8), to: metricsFile)
            } catch {
                Console.error("drill: cannot write the metrics file \(metricsFile): \(error)")
                codes.append(.failed)
            }
        }
        if let junit {
            do {
                try AtomicFile.write(Data(JUnitReport.render(reports).utf8), to: junit)
            } catch {
                Console.error("drill: cannot write the JUnit file \(junit): \(error)")
                codes.append(.failed)
            }
        }
        return codes
    }

    static func printAlertOutcome(_ outcome: AlertDelivery.Outcome?) {
        guard let outcome else { return }
        if outcome.delivered {
            Console.out("  alert sent")
        } else {
            Console.error("drill: alert not delivered after \(outcome.attempts) attempt\(outcome.attempts == 1 ? "" : "s"): \(outcome.lastError ?? "unknown error") (the report is archived)")
        }
    }
}
