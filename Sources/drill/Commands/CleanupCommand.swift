import ArgumentParser
import DrillCore
import DrillLive
import Foundation
import Logging

/// `drill cleanup`: removes what drills that died without a report (SIGKILL, the OOM killer, a hard timeout) left.
struct CleanupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cleanup",
        abstract: "Remove what dead drills left: scratch clusters, staged downloads, private GnuPG homes and their gpg-agent, processes still running.",
        discussion: """
            Every drill records what it creates under the scratch root ($DRILL_SCRATCH_DIR, else $TMPDIR, else /tmp) \
            in .drill-runs/. A record whose drill process is gone (its pid no longer exists, or belongs to a process \
            that started at another time) is a dead run: its processes are killed, the gpg-agent of each private GnuPG \
            home it made is stopped (gpgconf --kill all), its folders deleted, and the next report of its drill says so. Drills that are still running are never touched. `drill run` does the same \
            before it provisions. Also kills whatever still runs as an idle drill-scratch-N account. Exit 0, also when \
            there was nothing to clean.
            """
    )

    @Option(name: .long, help: ArgumentHelp("The scratch root to clean (default: $DRILL_SCRATCH_DIR, else $TMPDIR, else /tmp).", valueName: "DIR"))
    var scratchDir: String?

    @Option(name: .long, help: "Log level for diagnostics on stderr (trace, debug, info, notice, warning, error).")
    var logLevel: Logger.Level = .warning

    func run() async throws {
        var logger = Logger(label: "drill")
        logger.logLevel = logLevel
        let root = scratchDir ?? LiveDependencies.defaultScratchRoot()
        let runs = RunCleanup.cleanDeadRuns(scratchRoot: root, logger: logger)
        let accounts = RunCleanup.sweepIdleAccounts(logger: logger)
        for run in runs { Console.out("removed: \(run.summary)") }
        for (user, killed) in accounts {
            Console.out("killed \(killed) process\(killed == 1 ? "" : "es") still running as \(user), which no drill is using")
        }
        if runs.isEmpty && accounts.isEmpty { Console.out("nothing to clean up under \(root)") }
        let bytes = runs.reduce(Int64(0)) { $0 + $1.bytes }
        if !runs.isEmpty {
            Console.out("\(runs.count) dead run\(runs.count == 1 ? "" : "s"): \(bytes) bytes freed, \(runs.reduce(0) { $0 + $1.processesKilled }) process\(runs.reduce(0) { $0 + $1.processesKilled } == 1 ? "" : "es") killed")
        }
        for run in runs where !run.problems.isEmpty {
            Console.error("drill: some of what run pid \(run.owner.pid) left could not be removed: \(run.problems.joined(separator: "; "))")
        }
    }
}
