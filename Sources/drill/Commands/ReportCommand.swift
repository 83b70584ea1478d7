import ArgumentParser
import DrillCore
import DrillLive
import Foundation

/// `drill report`: the audit report over a period, as self-contained HTML or Markdown.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write the audit report: compliance per tier, RTO/RPO charts and trends, failed and missed drills, archive integrity.",
        discussion: """
            The format follows --output's extension: .html (self-contained, no scripts) or .md. The config folder is \
            read when present, for schedules (missed drills) and current targets. Exit 0 when written (even if the \
            report shows problems), 1 when the archive's hash chain is broken, 2 usage error, 3 archive unreadable.
            """
    )

    @OptionGroup var options: ConfigOptions
    @OptionGroup var archiveOptions: ArchiveOptions

    @Option(name: .long, help: ArgumentHelp("A calendar year (2026) or month (2026-03), UTC.", valueName: "PERIOD"))
    var period: String?

    @Option(name: .long, help: ArgumentHelp("Instead of --period: 12m (months), 30d, 2w, 1y, or a date.", valueName: "WHEN"))
    var since: String?

    @Option(name: .long, help: ArgumentHelp("The report file: .html or .md.", valueName: "FILE"))
    var output: String

    func validate() throws {
        if (period == nil) == (since == nil) { throw ValidationError("give exactly one of --period and --since") }
        if let period, AuditRange.period(period) == nil { throw ValidationError("--period takes a year (2026) or a month (2026-03)") }
        if let since, AuditRange.since(since, now: Date()) == nil { throw ValidationError("--since takes 12m (months), 30d, 2w, 1y, or a date") }
        if !(output.hasSuffix(".html") || output.hasSuffix(".htm") || output.hasSuffix(".md")) {
            throw ValidationError("--output must end in .html or .md")
        }
    }

    func run() async throws {
        do {
            _ = try OutputFile.destination(of: output)
        } catch let refused as OutputFile.Refused {
            Console.error("drill: --output \(refused)")
            throw ExitCode(DrillCore.ExitCode.usage.rawValue)
        }
        let now = Date()
        let range = period.flatMap(AuditRange.period) ?? AuditRange.since(since!, now: now)!
        let folder = FileManager.default.fileExists(atPath: (options.config as NSString).appendingPathComponent("tiers.json"))
            ? try options.load() : nil
        let archive = try archiveOptions.open(config: options.config)
        // Only the period's months are read; the archive's paths say when each drill first ran (missed runs).
        let reports = try await archiveOptions.reports(archive, in: range.range)
        let firstRuns = (try? await archive.firstRuns()) ?? [:]
        let chain: ChainVerification
        do {
            chain = try await archive.verify()
        } catch {
            Console.error("drill: cannot read the archive \(archive.storage.location): \(error)")
            throw ExitCode(DrillCore.ExitCode.failed.rawValue)
        }
        let audit = AuditReport.build(reports: reports, config: folder, chain: chain, range: range, now: now,
                                      archiveLocation: archive.storage.location, firstRuns: firstRuns)
        let text = output.hasSuffix(".md") ? AuditMarkdown.render(audit) : AuditHTML.render(audit)
        do {
            try await OutputFile.write(Data(text.utf8), to: output)
        } catch {
            Console.error("drill: cannot write \(output): \(error)")
            throw ExitCode(DrillCore.ExitCode.failed.rawValue)
        }
        Console.out("wrote \(output): \(audit.drills.count) drill\(audit.drills.count == 1 ? "" : "s"), \(audit.problems.count) problem\(audit.problems.count == 1 ? "" : "s"); archive chain \(chain.summary)")
        if !chain.intact { throw ExitCode(1) }
    }
}
