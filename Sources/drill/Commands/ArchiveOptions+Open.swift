import ArgumentParser
import Foundation
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

    /// The reports of the months overlapping `range` (nil: all), oldest first; unreadable files are reported on
    /// stderr and skipped. Exits 3 when the archive cannot be read.
    func reports(_ archive: ReportArchive, in range: Range<Date>? = nil, drill: String? = nil) async throws -> [DrillReport] {
        let all = try await reading(archive) { try await archive.reports(in: range, drill: drill) }
        for path in all.unreadable { Console.error("drill: warning: \(path) in the archive is not a readable report; skipped") }
        return all.reports.map(\.report)
    }

    /// Each drill's newest reports, read from the chain's newest entry backwards until `enough` holds (see
    /// `ReportArchive.newest`), oldest first. Exits 3 when the archive cannot be read.
    func newest(_ archive: ReportArchive, drills: Set<String>?,
                enough: @escaping @Sendable ([DrillReport]) -> Bool) async throws -> [DrillReport] {
        let found = try await reading(archive) { try await archive.newest(drills: drills, enough: enough) }
        for path in found.skipped {
            Console.error("drill: warning: \(path) in the archive is missing, unreadable or not what its chain entry recorded; skipped (run `drill archive verify`)")
        }
        return found.all
    }

    private func reading<T>(_ archive: ReportArchive, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch {
            Console.error("drill: cannot read the archive \(archive.storage.location): \(error)")
            throw ArgumentParser.ExitCode(DrillCore.ExitCode.failed.rawValue)
        }
    }
}
