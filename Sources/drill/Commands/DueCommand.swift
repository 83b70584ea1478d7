import ArgumentParser
import DrillCore
import Foundation

/// `drill due`: the drills whose schedule asks for a run they have not had.
struct DueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "due",
        abstract: "List the drills that are due: no run since the most recent instant of their tier's schedule (UTC).",
        discussion: """
            A drill is due when no run (compliant, non-compliant or failed; aborted runs do not count) started at or \
            after the most recent scheduled instant at or before now. MISSED counts whole schedule periods since the \
            last run that passed without any run. `drill run --due` runs exactly these drills. Exit 0 (2 on a \
            configuration error, 3 when the archive cannot be read).
            """
    )

    @OptionGroup var options: ConfigOptions
    @OptionGroup var archiveOptions: ArchiveOptions

    @Flag(name: .long, help: "Send an alert for each drill that missed a whole schedule period.")
    var alert = false

    func run() async throws {
        let folder = try options.load()
        let archive = try archiveOptions.open(config: options.config)
        let reports = try await archiveOptions.newest(archive, drills: Set(folder.drills.map(\.name))) { $0.contains(where: countsAsRun) }
        let due = dueDrills(config: folder, reports: reports, now: Date())
        if due.isEmpty {
            Console.out("nothing is due (\(folder.drills.count) drill\(folder.drills.count == 1 ? "" : "s") checked)")
            return
        }
        var rows = [["DRILL", "TIER", "SCHEDULE", "LAST RUN", "DUE SINCE", "MISSED"]]
        for d in due {
            rows.append([d.drill, d.tier, d.schedule, d.lastRun.map { RFC3339.format($0) } ?? "never",
                         RFC3339.format(d.dueSince), d.missedPeriods == 0 ? "-" : "\(d.missedPeriods)"])
        }
        Console.out(TextTable.render(rows))
        guard alert else { return }
        let delivery = LiveWiring.alertDelivery()
        for d in due {
            guard let a = DrillCore.alert(forMissed: d, config: folder) else { continue }
            let outcome = await delivery.deliver(a)
            if outcome.delivered { Console.out("alert sent: \(d.drill) missed") }
            else { Console.error("drill: missed-schedule alert for \(d.drill) not delivered: \(outcome.lastError ?? "unknown error")") }
        }
    }
}
