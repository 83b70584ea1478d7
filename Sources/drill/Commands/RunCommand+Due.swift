import DrillCore
import DrillLive
import Foundation

extension RunCommand {
    /// `--due`: the drills `drill due` lists, in config order.
    func dueSelection(_ folder: ConfigFolder) async throws -> [DrillConfig] {
        let archive = try archiveOptions.open(config: options.config)
        let due = Set(dueDrills(config: folder, reports: try await archiveOptions.reports(archive), now: Date()).map(\.drill))
        if due.isEmpty { Console.out("nothing is due") }
        return folder.drills.filter { due.contains($0.name) }
    }
}
