import ArgumentParser
import DrillCore
import DrillLive
import Logging

extension ArchiveOptions {
    /// The archive with the live SHA-256; exits 2 when the location is not usable.
    func open(config: String, logger: Logger = Logger(label: "drill.archive")) throws -> ReportArchive {
        do {
            return try LiveWiring.archive(location(config: config), logger: logger)
        } catch {
            Console.error("drill: \(error)")
            throw ArgumentParser.ExitCode(DrillCore.ExitCode.usage.rawValue)
        }
    }

    /// Every report, oldest first; unreadable files are reported on stderr and skipped. Exits 3 when the archive
    /// cannot be read.
    func reports(_ archive: ReportArchive) async throws -> [DrillReport] {
        let all: (reports: [(path: String, report: DrillReport)], unreadable: [String])
        do {
            all = try await archive.reports()
        } catch {
            Console.error("drill: cannot read the archive \(archive.storage.location): \(error)")
            throw ArgumentParser.ExitCode(DrillCore.ExitCode.failed.rawValue)
        }
        for path in all.unreadable { Console.error("drill: warning: \(path) in the archive is not a readable report; skipped") }
        return all.reports.map(\.report)
    }
}
