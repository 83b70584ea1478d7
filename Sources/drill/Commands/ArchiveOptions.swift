import ArgumentParser
import DrillCore
import DrillLive

/// `--archive`, shared by every command that reads the report archive.
struct ArchiveOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The report archive: a folder (or, later, s3://bucket/prefix/).", valueName: "DIR"))
    var archive: String = "archive"

    /// The archive with the live SHA-256; exits 2 when the location is not usable.
    func open() throws -> ReportArchive {
        do {
            return ReportArchive(storage: try ArchiveLocation.storage(for: archive))
        } catch {
            Console.error("error: \(error)")
            throw ExitCode(DrillCore.ExitCode.usage.rawValue)
        }
    }

    /// Every report, oldest first; unreadable files are reported on stderr and skipped.
    func reports(_ archive: ReportArchive) async throws -> [DrillReport] {
        let all: (reports: [(path: String, report: DrillReport)], unreadable: [String])
        do {
            all = try await archive.reports()
        } catch {
            Console.error("error: cannot read the archive \(archive.storage.location): \(error)")
            throw ExitCode(DrillCore.ExitCode.failed.rawValue)
        }
        for path in all.unreadable { Console.error("warning: \(path) in the archive is not a readable report; skipped") }
        return all.reports.map(\.report)
    }
}
