import ArgumentParser
import DrillCore
import Foundation
import Logging

/// `drill`: PostgreSQL disaster-recovery drills.
@main
struct DrillCommand: AsyncParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "drill",
        abstract: "Restore your PostgreSQL backups into scratch databases, time them, check them, and archive the evidence.",
        discussion: """
            Exit codes: 0 every drill compliant; 1 a drill restored but missed a target or a check; 2 usage or \
            configuration error (nothing ran); 3 a drill failed (backup missing, unreadable or corrupt, restore error, \
            no usable PostgreSQL); 130 interrupted. With several drills, the highest of 2 > 130 > 3 > 1 > 0 wins.
            """,
        version: version,
        subcommands: [
            ValidateCommand.self,
            PlanCommand.self,
            RunCommand.self,
            ArchiveCommand.self,
            DueCommand.self,
            ScheduleCommand.self,
            AlertCommand.self,
            HistoryCommand.self,
            ReportCommand.self,
            ReplicaCommand.self,
            CleanupCommand.self,
        ]
    )

    /// As ArgumentParser's own `main`, except that a usage error (a bad flag, a failed `validate()`) exits 2, as the
    /// exit-code table says, instead of ArgumentParser's 64; and logging is bootstrapped first, so that every log line,
    /// whichever component built it, goes through URL redaction to stderr.
    static func main() async {
        LoggingSystem.bootstrap { RedactingLogHandler(StreamLogHandler.standardError(label: $0)) }
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            if exitCode(for: error) == ArgumentParser.ExitCode.validationFailure {
                Console.error(fullMessage(for: error))
                Foundation.exit(DrillCore.ExitCode.usage.rawValue)
            }
            exit(withError: error)
        }
    }
}

/// Options shared by every command that reads the config folder.
struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The config folder holding tiers.json and drills/.", valueName: "DIR"))
    var config: String = "."

    /// Loads the folder; prints every problem and exits 2 when it is invalid.
    func load() throws -> ConfigFolder {
        do {
            return try ConfigFolder.load(from: config)
        } catch let e as ConfigErrors {
            Console.error("configuration error\(e.issues.count == 1 ? "" : "s") in \(config):")
            for issue in e.issues { Console.error("  \(issue)") }
            throw ExitCode(DrillCore.ExitCode.usage.rawValue)
        }
    }

    /// The drills named by tier or drill names (every drill when `all`); an unknown name exits 2.
    func select(_ targets: [String], all: Bool, in folder: ConfigFolder) throws -> [DrillConfig] {
        do {
            return all ? folder.drills : try folder.select(targets)
        } catch let e as ConfigErrors {
            for i in e.issues { Console.error("drill: \(i.message)") }
            throw ExitCode(DrillCore.ExitCode.usage.rawValue)
        }
    }
}
