import DrillCore
import DrillLive
import Foundation

extension RunCommand {
    /// `--due`: the drills `drill due` lists, in config order.
    func dueSelection(_ folder: ConfigFolder) async throws -> [DrillConfig] {
        let archive = try archiveOptions.open(config: options.config)
        let reports = try await archiveOptions.newest(archive, drills: Set(folder.drills.map(\.name))) { $0.contains(where: countsAsRun) }
        let due = Set(dueDrills(config: folder, reports: reports, now: Date()).map(\.drill))
        if due.isEmpty { Console.out("nothing is due") }
        return folder.drills.filter { due.contains($0.name) }
    }
}
