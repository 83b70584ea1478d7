import ArgumentParser
import DrillCore
import DrillLive
import Foundation
import Logging

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run drills: restore the latest backup into a scratch database, time it, check it, report it.",
        discussion: """
            TARGET is a tier name (all of its drills) or a drill name. Drills run one after another. Each report is \
            written to the archive as JSON and Markdown. Ctrl-C (or SIGTERM) stops the drill, tears the scratch \
            database down, writes an aborted report and exits 130.
            """
    )

    @OptionGroup var options: ConfigOptions
    @OptionGroup var archiveOptions: ArchiveOptions

    @Argument(help: "Tier or drill names.")
    var targets: [String] = []

    @Flag(name: .long, help: "Run every drill.")
    var all = false

    @Flag(name: .long, help: "Run the drills that are due by their tier's schedule (see `drill due`).")
    var due = false

    @Flag(name: .long, help: "Leave the scratch database running and print how to connect to it.")
    var keep = false

    @Option(name: .long, help: ArgumentHelp("Write Prometheus metrics of every drill in the archive here (textfile collector).", valueName: "PATH"))
    var metricsFile: String?

    @Option(name: .long, help: ArgumentHelp("Write a JUnit XML report of this run here.", valueName: "PATH"))
    var junit: String?

    @Flag(name: .long, help: "Print the runner's own CPU time and peak memory (not the server's or the tools') to stderr at the end.")
    var stats = false

    @Option(name: .long, help: "Log level for diagnostics on stderr (trace, debug, info, notice, warning, error).")
    var logLevel: Logger.Level = .warning

    func validate() throws {
        if due && (all || !targets.isEmpty) { throw ValidationError("--due chooses the drills itself: give no TARGET and no --all") }
        if all && !targets.isEmpty { throw ValidationError("give TARGET names or --all, not both") }
        if !all && !due && targets.isEmpty { throw ValidationError("give at least one tier or drill name, --all or --due") }
    }

    func run() async throws {
        let folder = try options.load()
        let drills = due ? try await dueSelection(folder) : try options.select(targets, all: all, in: folder)
        var logger = Logger(label: "drill")
        logger.logLevel = logLevel
        let archive = try archiveOptions.open(config: options.config, logger: logger)
        let interactive = Console.stderrIsTerminal
        let observer = TerminalObserver(interactive: interactive)
        let deps = await LiveWiring.dependencies(logger: logger)
        let phaseCPU = stats ? PhaseCPUObserver(observer) : nil
        let runner = DrillRunner(deps: deps, clock: ContinuousClock(), observer: phaseCPU ?? observer)
        let keep = self.keep

        let publisher = ReportPublisher(archive: archive, config: folder, delivery: LiveWiring.alertDelivery())
        // Signal handling is in place before any drill starts, so no signal can kill drill mid-drill without teardown.
        let cancellation = CancellationBox()
        let interrupts = Interrupts.install { signal in
            Console.error("\ndrill: \(signal == SIGINT ? "interrupted" : signal == SIGHUP ? "hung up" : "terminated"); tearing the scratch database down…")
            cancellation.cancel()
        }
        let work = Task { () -> ([DrillCore.ExitCode], [DrillReport]) in
            var codes: [DrillCore.ExitCode] = []
            var reports: [DrillReport] = []
            for drill in drills {
                if Task.isCancelled { break }
                let report = await runner.run(drill, tier: folder.tier(of: drill), keep: keep)
                codes.append(DrillCore.ExitCode(report))
                reports.append(report)
                let published = await publisher.publish(report)  // archive first, then the alert
                if let paths = published.archived {
                    Summary.print(report, reportPath: archive.storage.displayPath(paths.markdown))
                } else {
                    Summary.print(report, reportPath: nil)
                    Console.error("drill: cannot write the report to the archive \(archive.storage.location): \(published.archiveError ?? "")")
                    codes.append(.failed)
                }
                Self.printAlertOutcome(published.alert)
            }
            return (codes, reports)
        }
        cancellation.set(work)
        var (codes, reports) = await work.value
        interrupts.cancel()
        observer.stop()
        codes += await writeMetricsAndJUnit(reports, archive: archive)
        if stats { Console.error(RunnerStats.current().line + (phaseCPU?.line ?? "")) }
        var exit = DrillCore.ExitCode.combine(codes)
        if interrupts.fired { exit = DrillCore.ExitCode.combine([exit, .interrupted]) }
        if exit != DrillCore.ExitCode.compliant { throw ArgumentParser.ExitCode(exit.rawValue) }
    }
}

/// `--archive DIR`, shared by the commands that read or write reports.
struct ArchiveOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "The audit archive: a folder or s3://bucket/prefix/ (default: $DRILL_ARCHIVE, else the archive/ folder inside the config folder).",
        valueName: "DIR|S3URL"))
    var archive: String?

    func location(config: String) -> String {
        if let archive { return archive }
        if let env = ProcessInfo.processInfo.environment["DRILL_ARCHIVE"], !env.isEmpty { return env }
        return (config as NSString).appendingPathComponent("archive")
    }
}

/// Holds the task to cancel; a cancel that arrives before the task is known cancels it as soon as it is set.
final class CancellationBox: @unchecked Sendable {
    private let lock = NSLock()
    private var task: Task<([DrillCore.ExitCode], [DrillReport]), Never>?
    private var cancelled = false

    func set(_ t: Task<([DrillCore.ExitCode], [DrillReport]), Never>) {
        let now = lock.withLock {
            task = t
            return cancelled
        }
        if now { t.cancel() }
    }

    func cancel() {
        let t = lock.withLock {
            cancelled = true
            return task
        }
        t?.cancel()
    }
}

/// SIGINT, SIGTERM and SIGHUP (a closed terminal) handling: the first signal cancels the drills (teardown still runs);
/// later ones only repeat the message, so a second Ctrl-C cannot leave a scratch cluster behind.
final class Interrupts: @unchecked Sendable {
    private var sources: [any DispatchSourceSignal] = []
    private let lock = NSLock()
    private var _fired = false
    var fired: Bool { lock.withLock { _fired } }

    static func install(_ handler: @escaping @Sendable (Int32) -> Void) -> Interrupts {
        let i = Interrupts()
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            signal(sig, SIG_IGN)
            let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            s.setEventHandler {
                let first = i.lock.withLock {
                    defer { i._fired = true }
                    return !i._fired
                }
                if first { handler(sig) } else { Console.error("drill: still tearing down; please wait") }
            }
            s.resume()
            i.sources.append(s)
        }
        return i
    }

    func cancel() {
        for s in sources { s.cancel() }
    }
}
