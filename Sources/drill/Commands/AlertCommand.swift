import ArgumentParser
import DrillCore
import Foundation

/// `drill alert test`: sends a test alert to every configured webhook.
struct AlertCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "alert", abstract: "Alert webhooks.",
                                                    subcommands: [AlertTestCommand.self])
}

struct AlertTestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Send a test alert to each distinct webhook of tiers.json and the drill files. Exit 0 when all were delivered, 3 otherwise."
    )

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let folder = try options.load()
        var hooks: [String: [String]] = [:]  // webhook → who uses it (never print the URL: it is a secret)
        if let h = folder.tiers.alerts?.webhook { hooks[h, default: []].append("tiers.json") }
        for t in folder.tiers.tiers.values.sorted(by: { $0.name < $1.name }) {
            if let h = t.alerts?.webhook { hooks[h, default: []].append("tier \(t.name)") }
        }
        for d in folder.drills {
            if let h = d.alerts?.webhook { hooks[h, default: []].append("drill \(d.name)") }
        }
        if hooks.isEmpty {
            Console.error("drill: no alerts.webhook in tiers.json or the drill files")
            throw ExitCode(DrillCore.ExitCode.usage.rawValue)
        }
        let delivery = LiveWiring.alertDelivery()
        var failed = false
        for (hook, users) in hooks.sorted(by: { $0.value.joined() < $1.value.joined() }) {
            let text = "drill: test alert from \(ProcessInfo.processInfo.hostName) at \(RFC3339.format(Date())) (webhook of \(users.joined(separator: ", ")))"
            let outcome = await delivery.deliver(Alert(webhook: hook, text: text))
            if outcome.delivered {
                Console.out("delivered: webhook of \(users.joined(separator: ", "))")
            } else {
                failed = true
                Console.out("NOT delivered: webhook of \(users.joined(separator: ", ")): \(outcome.lastError ?? "unknown error")")
            }
        }
        if failed { throw ExitCode(DrillCore.ExitCode.failed.rawValue) }
    }
}
