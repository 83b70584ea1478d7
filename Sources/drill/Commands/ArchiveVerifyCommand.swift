import ArgumentParser
import DrillCore

/// `drill archive verify`: walks the hash chain. Exit 0 intact, 1 tampered with, 2 usage, 3 archive unreadable.
struct ArchiveVerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check the archive's hash chain: every report is as it was appended, none removed, inserted or reordered.",
        discussion: """
            Exit codes: 0 the chain is intact; 1 a report was edited, removed, inserted or reordered (the first one is \
            named); 2 usage error; 3 the archive cannot be read. Note the printed head digest: passing it later as \
            --expect-head proves no report appended before that moment was cut off since.
            """
    )

    @OptionGroup var options: ConfigOptions
    @OptionGroup var archiveOptions: ArchiveOptions

    @Option(name: .long, help: ArgumentHelp("A head digest recorded earlier; it must still be in the chain.", valueName: "SHA256"))
    var expectHead: String?

    func validate() throws {
        if let h = expectHead, !(h.count == 64 && h.allSatisfy(\.isHexDigit)) {
            throw ValidationError("--expect-head must be a 64-digit hex SHA-256")
        }
    }

    func run() async throws {
        let archive = try archiveOptions.open(config: options.config)
        let result: ChainVerification
        do {
            result = try await archive.verify(anchor: expectHead)
        } catch {
            Console.error("drill: cannot read the archive \(archive.storage.location): \(error)")
            throw ArgumentParser.ExitCode(DrillCore.ExitCode.failed.rawValue)
        }
        if result.intact {
            Console.out("OK: \(archive.storage.location): \(result.summary)")
            return
        }
        Console.out("TAMPERED: \(archive.storage.location)")
        Console.out("first problem: \(result.issues[0])")
        for issue in result.issues.dropFirst() { Console.out("  also: \(issue)") }
        throw ArgumentParser.ExitCode(1)
    }
}
