import ArgumentParser
import DrillCore
import Foundation

extension SchedulerUnits.Kind: ExpressibleByArgument {}

/// `drill schedule --emit cron|systemd|kubernetes|airflow`: scheduler units that run drills.
struct ScheduleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule",
        abstract: "Print (or write) a crontab line, a systemd service and timer, a Kubernetes CronJob, or an Airflow DAG file that runs the drills.",
        discussion: """
            cron, systemd and kubernetes call `drill run --due` often enough for the most frequent tier schedule (at \
            most hourly); each check runs only the drills that are due, and checks never overlap. kubernetes runs \
            --shards pods in an Indexed Job, each with `--shard I/N` (more than one shard needs an s3:// archive). \
            airflow writes one DAG per tier, one task per drill.
            """
    )

    @OptionGroup var options: ConfigOptions

    @Option(name: .long, help: "cron, systemd, kubernetes or airflow.")
    var emit: SchedulerUnits.Kind

    @Option(name: .long, help: ArgumentHelp("The archive the scheduled runs use (default: as `drill run`; kubernetes: a PVC at /var/lib/drill/archive).", valueName: "DIR|s3://…"))
    var archive: String?

    @Option(name: .long, help: ArgumentHelp("The drill executable (default: this one; /usr/local/bin/drill for kubernetes).", valueName: "PATH"))
    var executable: String?

    @Option(name: .long, help: "Container image for kubernetes (built from the Containerfile).")
    var image: String = "drill:latest"

    @Option(name: .long, help: "kubernetes: pods per run, each drilling its shard of the fleet.")
    var shards: Int = 1

    @Option(name: .long, help: "kubernetes: CPU, memory and scratch space a pod asks for, as cpu,memory,scratch.")
    var resources: String = "1,2Gi,20Gi"

    @Option(name: .long, help: "systemd: the account the service runs as.")
    var user: String = "drill"

    @Option(name: .long, help: "airflow: how often a failed drill task is tried again, 10 minutes later (each try is its own report).")
    var retries: Int = 1

    @Option(name: .long, help: ArgumentHelp("Write the files into this folder instead of printing them.", valueName: "DIR"))
    var outputDir: String?

    func validate() throws {
        guard retries >= 0 && retries <= 10 else { throw ValidationError("--retries must be from 0 to 10") }
        guard shards >= 1 && shards <= 1000 else { throw ValidationError("--shards must be from 1 to 1000") }
        if emit == .kubernetes, shards > 1, !(archive ?? "").hasPrefix("s3://") {
            throw ValidationError("--shards \(shards) needs an s3:// --archive: pods on several nodes cannot share one archive folder")
        }
        if resources.split(separator: ",").count != 3 { throw ValidationError("--resources is cpu,memory,scratch, e.g. 1,2Gi,20Gi") }
    }

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
        let r = resources.split(separator: ",").map(String.init)
        let request = ScheduleRequest(minutes: minutes, invocation: invocation, drills: folder.drills, tiers: folder.tiers.tiers,
                                      image: image, shards: shards, resources: PodResources(cpu: r[0], memory: r[1], scratch: r[2]),
                                      user: user, retries: retries)
        guard let outputDir else {
            Console.write(FileHandle.standardOutput, SchedulerUnits.render(emit, request))
            return
        }
        try FileManager.default.createDirectory(atPath: outputDir, withIntermediateDirectories: true)
        for file in SchedulerUnits.emit(emit, request) {
            let path = (outputDir as NSString).appendingPathComponent(file.name)
            try Data(file.contents.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
            Console.out(path)
        }
    }

    /// An absolute, clean path (`.` and `..` resolved, no trailing slash); URLs as they are.
    static func absolute(_ path: String) -> String {
        if path.contains("://") { return path }
        let full = path.hasPrefix("/") ? path : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path)
        return (full as NSString).standardizingPath
    }

    static func selfPath() -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? absolute(CommandLine.arguments[0])
    }
}
