import DrillCore
import DrillLive
import DrillTesting
import Foundation
import Testing

/// Configuration problems found before anything runs, by `drill validate` and `drill run` alike (exit 2).
@Suite("Validation of locations and check timeouts", .timeLimit(.minutes(2)))
struct HardeningValidationTests {
    @Test("a backup.location that is a file, and a check timeout past PostgreSQL's limit, exit 2 naming file and key")
    func fileLocationAndTimeout() async throws {
        let folder = TempFolder("valid")
        let dump = try copy(try await Shop.shared.dump(.custom), into: folder.sub("backups"), as: "shop.dump")
        let checks = #"[ { "name": "slow", "sql": "SELECT 1", "expect": { "equals": 1 }, "timeout": "30d" } ]"#
        let config = try ConfigFixture(in: folder, drills: [
            "shop": ConfigFixture.drill(location: dump),
            "orders": ConfigFixture.drill(location: folder.sub("backups"), checks: checks),
        ])
        let archive = folder.sub("archive")
        for command in [["validate"], ["run", "--all", "--archive", archive]] {
            let r = try await DrillBinary.run(command + ["--config", config.directory], environment: ["TMPDIR": folder.sub("scratch")])
            #expect(r.exitCode == 2, "\(command): \(r.output)")
            #expect(r.stderr.contains("drills/shop.json: backup.location: \(dump) is a file, not a folder"), "\(r.stderr)")
            #expect(r.stderr.contains("drills/orders.json: checks[0].timeout: 30d is outside PostgreSQL's statement_timeout range"),
                    "\(r.stderr)")
        }
        #expect(folder.entries("archive").isEmpty, "nothing ran")
        #expect(Leftovers.scratchEntries(in: folder.sub("scratch")).isEmpty)
    }
}
