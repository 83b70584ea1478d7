import ArgumentParser

/// `drill archive …`: commands on the report archive itself.
struct ArchiveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "archive",
        abstract: "Work with the report archive.",
        subcommands: [ArchiveVerifyCommand.self]
    )
}
