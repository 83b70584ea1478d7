import ArgumentParser
import DrillCore
import DrillLive
import Foundation

extension RunCommand {
    /// Refuses, before any drill runs, an output path drill will not write to (a folder, a block device, a socket, a
    /// missing folder): a usage error, exit 2. See `OutputFile` for what each kind of path gets.
    func checkOutputPaths() throws {
        for (option, path) in [("--metrics-file", metricsFile), ("--junit", junit)] {
            guard let path else { continue }
            do {
                _ = try OutputFile.destination(of: path)
            } catch let refused as OutputFile.Refused {
                Console.error("drill: \(option) \(refused)")
                throw ArgumentParser.ExitCode(DrillCore.ExitCode.usage.rawValue)
            }
        }
    }

    /// `--metrics-file` (every drill in the archive, from its newest reports down to its last compliant one) and `--junit` (this run), each written by
    /// `OutputFile`'s rules: atomic replace of a regular file or a symlink's target, direct write to a FIFO or a
    /// character device. Returns `.failed` for each file that could not be written.
    func writeMetricsAndJUnit(_ reports: [DrillReport], archive: ReportArchive) async -> [DrillCore.ExitCode] {
        var codes: [DrillCore.ExitCode] = []
        if let metricsFile {
            do {
                let all = try await archive.newest(drills: nil) { $0.contains { $0.status == .compliant } }.all
                try await OutputFile.write(Data(PrometheusMetrics.render(reports: all).utf8), to: metricsFile)
            } catch {
                Console.error("drill: cannot write the metrics file \(metricsFile): \(error)")
                codes.append(.failed)
            }
        }
        if let junit {
            do {
                try await OutputFile.write(Data(JUnitReport.render(reports).utf8), to: junit)
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
