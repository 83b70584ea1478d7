import ArgumentParser
import DrillCore
import DrillLive

/// `drill replica …`: helpers for replica drills.
struct ReplicaCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replica",
        abstract: "Helpers for replica drills (docs/replica-drills.md).",
        subcommands: [ReplicaInitCommand.self]
    )
}

/// `drill replica init`: prints the SQL an administrator runs once so replica drills can run. drill never runs it.
struct ReplicaInitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Print the SQL that prepares production for replica drills: the pg_monitor grant, the heartbeat table, REPLICATION for clone.",
        discussion: "Nothing is executed: review the SQL and run it on the primary (and on each subscriber) yourself."
    )

    @OptionGroup var options: ConfigOptions

    @Argument(help: "Replica drills (default: every replica drill of the config folder).")
    var drills: [String] = []

    @Option(name: .long, help: "The role drill connects as (default: the user of each drill's primary URL).")
    var role: String?

    @Option(name: .long, help: "The heartbeat table, when no drill is given (default: drill_heartbeat).")
    var table: String?

    func run() async throws {
        let folder = try? options.load()
        let selected = try folder.map { try options.select(drills, all: drills.isEmpty, in: $0) } ?? []
        let replicas = selected.compactMap { d in (d.settings as? ReplicaSettings).map { (d.name, $0) } }
        if replicas.isEmpty {
            if !drills.isEmpty { throw ValidationError("none of \(drills.joined(separator: ", ")) is a replica drill") }
            Console.out(ReplicaInit.sql(role: role ?? "drill_monitor", table: table ?? "drill_heartbeat", clone: true))
            return
        }
        for (name, s) in replicas {
            let user = role ?? (try? ConnInfo.parse(s.primary, key: "replica.primary"))?.keywords["user"] ?? "<drill role>"
            Console.out("-- drill \(name): primary \(s.primary)")
            Console.out(ReplicaInit.sql(role: user, table: s.heartbeatTable, clone: s.clone != nil,
                                        subscriptions: s.subscriptions.map(\.name)))
        }
    }
}
