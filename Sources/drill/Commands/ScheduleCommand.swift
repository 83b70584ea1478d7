import ArgumentParser
import DrillCore
import Foundation

extension SchedulerUnits.Kind: ExpressibleByArgument {}

/// `drill schedule --emit cron|systemd|kubernetes`: scheduler units that call `drill run --due`.
struct ScheduleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule",
        abstract: "Print a crontab line, a systemd service and timer, or a Kubernetes CronJob that runs `drill run --due`.",
        discussion: """
            The check fires often enough for the most frequent tier schedule (at most hourly); each check runs only \
            the drills that are due, and checks never overlap.
            """
    )

    @OptionGroup var options: ConfigOptions

    @Option(name: .long, help: "cron, systemd or kubernetes.")
    var emit: SchedulerUnits.Kind

    @Option(name: .long, help: ArgumentHelp("The archive the scheduled runs use (default: as `drill run`).", valueName: "DIR"))
    var archive: String?

    @Option(name: .long, help: ArgumentHelp("The drill executable (default: this one; /usr/local/bin/drill for kubernetes).", valueName: "PATH"))
    var executable: String?

    @Option(name: .long, help: "Container image for kubernetes.")
    var image: String = "drill:latest"

    func run() async throws {
        let folder = try options.load()
        let minutes = SchedulerUnits.checkIntervalMinutes(schedules: folder.tiers.tiers.values.map(\.schedule), from: Date())
        let invocation: SchedulerUnits.Invocation
        if emit == .kubernetes {
            invocation = .init(executable: executable ?? "/usr/local/bin/drill", configDir: "/etc/drill",
                               archive: archive ?? "/var/lib/drill/archive")
        } else {
            invocation = .init(executable: executable ?? Self.selfPath(), configDir: Self.absolute(options.config),
                               archive: archive.map(Self.absolute))
        }
        Console.write(FileHandle.standardOutput, SchedulerUnits.render(emit, every: minutes, invocation: invocation, image: image))
    }

    static func absolute(_ path: String) -> String {
        path.hasPrefix("/") || path.contains("://") ? path
            : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path).replacingOccurrences(of: "/./", with: "/")
    }

    static func selfPath() -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? absolute(CommandLine.arguments[0])
    }
}
