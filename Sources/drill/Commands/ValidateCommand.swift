import ArgumentParser
import DrillCore

struct ValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check the config folder (tiers.json and drills/*.json). Exit 0, or 2 with every problem listed."
    )

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let folder = try options.load()
        Console.out("OK: \(folder.tiers.tiers.count) tier\(folder.tiers.tiers.count == 1 ? "" : "s"), \(folder.drills.count) drill\(folder.drills.count == 1 ? "" : "s") in \(options.config)")
        for d in folder.drills {
            Console.out("  \(d.name): tier \(d.tier), \(Self.describe(d.method, source: d.settings.source)), target \(d.target.kind), \(d.checks.count) check\(d.checks.count == 1 ? "" : "s")")
        }
    }

    /// `pgbackrest stanza prod, repo 1`, `dump /srv/backups/shop`: the method once, even when its source line already
    /// starts with it.
    static func describe(_ method: MethodKind, source: String) -> String {
        source.hasPrefix(method.rawValue + " ") ? source : "\(method) \(source)"
    }
}
