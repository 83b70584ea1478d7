import ArgumentParser
import DrillCore
import Foundation

/// `drill history`: a table of past runs from the archive.
struct HistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "List past runs from the archive: date, drill, tier, status, measured RTO and RPO against target."
    )

    @OptionGroup var options: ConfigOptions
    @OptionGroup var archiveOptions: ArchiveOptions

    @Option(name: .long, help: ArgumentHelp("Only runs since: 12m (months), 30d, 2w, 1y, or a date.", valueName: "WHEN"))
    var since: String?

    @Option(name: .long, help: "Only this tier.")
    var tier: String?

    @Option(name: .long, help: "Only this drill.")
    var drill: String?

    func validate() throws {
        if let since, AuditRange.since(since, now: Date()) == nil {
            throw ValidationError("--since takes 12m (months), 30d, 2w, 1y, or a date like 2026-01-01")
        }
    }

    func run() async throws {
        let archive = try archiveOptions.open(config: options.config)
        let range = since.flatMap { AuditRange.since($0, now: Date()) }
        let reports = try await archiveOptions.reports(archive, in: range?.range, drill: drill)
        let selected = History.select(reports, range: range?.range, tier: tier, drill: drill)
        if selected.isEmpty {
            Console.out("no runs in the archive \(archive.storage.location) match")
            return
        }
        Console.out(History.table(selected))
    }
}
