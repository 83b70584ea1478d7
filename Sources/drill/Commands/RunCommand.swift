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
            TARGET is a tier name (all of its drills) or a drill name. Drills run one after another, or up to N at \
            once with --parallel N; --shard I/N keeps the drills of one shard of the fleet. Each report is \
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

    @Option(name: .long, help: ArgumentHelp("Run up to N drills at once, each in its own scratch cluster (reports are still archived one at a time).", valueName: "N"))
    var parallel: Int = 1

    @Option(name: .long, help: ArgumentHelp("Only the drills in shard I of N (0-based), by a stable hash of the drill's name: N workers split the fleet with no coordinator.", valueName: "I/N"))
    var shard: String?

    @Flag(name: .long, help: "Print the runner's own CPU time and peak memory (not the server's or the tools') to stderr at the end.")
    var stats = false

    @Option(name: .long, help: "Log level for diagnostics on stderr (trace, debug, info, notice, warning, error).")
    var logLevel: Logger.Level = .warning

    func validate() throws {
        if due && (all || !targets.isEmpty) { throw ValidationError("--due chooses the drills itself: give no TARGET and no --all") }
        if all && !targets.isEmpty { throw ValidationError("give TARGET names or --all, not both") }
        if !all && !due && targets.isEmpty { throw ValidationError("give at least one tier or drill name, --all or --due") }
        if parallel < 1 || parallel > 64 { throw ValidationError("--parallel takes a number from 1 to 64") }
        if let shard, Shard(parsing: shard) == nil { throw ValidationError("--shard takes I/N with 0 ≤ I < N, e.g. 0/4 (found \(shard))") }
        if keep && parallel > 1 { throw ValidationError("--keep leaves one scratch database running: use it without --parallel") }
    }

    func run() async throws {
        try checkOutputPaths()
        let folder = try options.load()
        var drills = due ? try await dueSelection(folder) : try options.select(targets, all: all, in: folder)
        if let shard = shard.flatMap(Shard.init(parsing:)) {
            drills = drills.filter { shard.contains($0.name) }
            if drills.isEmpty { Console.out("no drill in shard \(shard)") }
        }
        var logger = Logger(label: "drill")
        logger.logLevel = logLevel
        let archive = try archiveOptions.open(config: options.config, logger: logger)
        let interactive = Console.stderrIsTerminal
        let observer = TerminalObserver(interactive: interactive && parallel == 1,
                                        lineInterval: TerminalObserver.lineInterval(ProcessInfo.processInfo.environment))
        let fleet = parallel > 1 ? FleetTerminal(interactive: interactive) : nil
        let deps = await LiveWiring.dependencies(logger: logger)
        let phaseCPU = stats && parallel == 1 ? PhaseCPUObserver(observer) : nil
        let runner = DrillRunner(deps: deps, clock: ContinuousClock(), observer: phaseCPU ?? observer)
        let keep = self.keep

        let publisher = SerialPublisher(ReportPublisher(archive: archive, config: folder, delivery: LiveWiring.alertDelivery()),
                                        archive: archive)
        // Signal handling is in place before any drill starts, so no signal can kill drill mid-drill without teardown.
        let cancellation = CancellationBox()
        let interrupts = Interrupts.install { signal in
            Console.error("\ndrill: \(signal == SIGINT ? "interrupted" : signal == SIGHUP ? "hung up" : "terminated"); tearing the scratch database down…")
            cancellation.cancel()
        }
        let width = parallel
        let work = Task { () -> ([DrillCore.ExitCode], [DrillReport]) in
            if width == 1 {
                var results: [([DrillCore.ExitCode], DrillReport)] = []
                for drill in drills {
                    if Task.isCancelled { break }
                    // Redacted once more before it is printed, archived, alerted or rendered (see `redactingURLs`).
                    let report = await runner.run(drill, tier: folder.tier(of: drill), keep: keep).redactingURLs()
                    results.append((await publisher.publish(report), report))
                }
                return (results.flatMap(\.0), results.map(\.1))
            }
            // Up to `width` drills at once, each with its own runner and progress lane; reports in finishing order.
            return await withTaskGroup(of: ([DrillCore.ExitCode], DrillReport).self) { group in
                var pending = drills[...]
                var codes: [DrillCore.ExitCode] = []
                var reports: [DrillReport] = []
                func start(_ drill: DrillConfig) {
                    let lane = DrillRunner(deps: deps, clock: ContinuousClock(), observer: fleet!.lane(drill.name))
                    group.addTask {
                        let report = await lane.run(drill, tier: folder.tier(of: drill)).redactingURLs()
                        return (await publisher.publish(report), report)
                    }
                }
                for _ in 0..<width { if let next = pending.popFirst() { start(next) } }
                for await (c, report) in group {
                    codes += c
                    reports.append(report)
                    if !Task.isCancelled, let next = pending.popFirst() { start(next) }
                }
                return (codes, reports)
            }
        }
        cancellation.set(work)
        var (codes, reports) = await work.value
        interrupts.cancel()
        observer.stop()
        fleet?.stop()
        codes += await writeMetricsAndJUnit(reports, archive: archive)
        if stats { Console.error(RunnerStats.current().line + (phaseCPU?.line ?? "")) }
        var exit = DrillCore.ExitCode.combine(codes)
        if interrupts.fired { exit = DrillCore.ExitCode.combine([exit, .interrupted]) }
        if exit != DrillCore.ExitCode.compliant { throw ArgumentParser.ExitCode(exit.rawValue) }
    }
}

/// Archives reports one at a time (then alerts), and prints each drill's summary: drills that run at once never
/// append to the archive together.
actor SerialPublisher {
    let publisher: ReportPublisher
    let archive: ReportArchive

    init(_ publisher: ReportPublisher, archive: ReportArchive) {
        self.publisher = publisher
        self.archive = archive
    }

    /// The exit codes the report adds (a failed archive write adds `failed`).
    func publish(_ report: DrillReport) async -> [DrillCore.ExitCode] {
        var codes = [DrillCore.ExitCode(report)]
        let published = await publisher.publish(report)  // archive first, then the alert
        if let paths = published.archived {
            Summary.print(report, reportPath: archive.storage.displayPath(paths.markdown))
        } else {
            Summary.print(report, reportPath: nil)
            Console.error("drill: cannot write the report to the archive \(archive.storage.location): \(published.archiveError ?? "")")
            codes.append(.failed)
        }
        RunCommand.printAlertOutcome(published.alert)
        return codes
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
