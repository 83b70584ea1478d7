import Foundation

/// Scheduler units that run drills: a crontab line, a systemd service and timer, a Kubernetes CronJob of an Indexed
/// Job, or an Airflow DAG file.
///
/// cron, systemd and Kubernetes call `drill run --due`, which runs whatever is due, so the check only has to fire at
/// least once in every schedule period. The cadence is the shortest gap between two instants of any tier's schedule,
/// capped at an hour and rounded down to a divisor of 60 minutes. Overlapping checks are prevented (`flock -n`,
/// a oneshot service, `concurrencyPolicy: Forbid`), since a drill can outlast the cadence. Airflow schedules each
/// tier's DAG itself and runs one task per drill.
public enum SchedulerUnits {
    public enum Kind: String, Sendable, CaseIterable {
        case cron, systemd, kubernetes, airflow
    }

    /// Every target, one file each in this folder.
    public static let emitters: [any ScheduleEmitter] = [CronEmitter(), SystemdEmitter(), KubernetesEmitter(), AirflowEmitter()]

    public static func emitter(_ kind: Kind) -> any ScheduleEmitter { emitters.first { $0.kind == kind }! }

    public struct Invocation: Sendable, Equatable {
        /// Absolute path of the `drill` executable (in the container image for Kubernetes).
        public var executable: String
        public var configDir: String
        public var archive: String?
        public init(executable: String, configDir: String, archive: String? = nil) {
            self.executable = executable
            self.configDir = configDir
            self.archive = archive
        }

        /// `run --due --config DIR [--archive A]`, plus `extra` (e.g. a shard).
        func arguments(_ run: [String] = ["--due"], extra: [String] = []) -> [String] {
            ["run"] + run + ["--config", configDir] + (archive.map { ["--archive", $0] } ?? []) + extra
        }

        var arguments: [String] { arguments() }

        func commandLine(_ args: [String]) -> String { ([executable] + args).map(Quote.shell).joined(separator: " ") }
        var commandLine: String { commandLine(arguments) }
    }

    /// Minutes between checks for these schedules, looking at their instants over the year after `from`.
    public static func checkIntervalMinutes(schedules: [String], from: Date) -> Int {
        var gap = 60.0 * 60
        for s in schedules {
            guard let cron = try? CronExpression(parsing: s), var t = cron.next(after: from) else { continue }
            for _ in 0..<600 {
                guard let n = cron.next(after: t), n.timeIntervalSince(from) < 366 * 86_400 else { break }
                gap = min(gap, n.timeIntervalSince(t))
                t = n
            }
        }
        let minutes = max(1, Int(gap / 60))
        return [60, 30, 20, 15, 12, 10, 6, 5, 4, 3, 2, 1].first { $0 <= minutes }!
    }

    /// The files of one target.
    public static func emit(_ kind: Kind, _ request: ScheduleRequest) -> [EmittedFile] { emitter(kind).emit(request) }

    /// The files of one target as one text for standard output: each file after a `# <name>` line, except a lone
    /// file, which is printed as it is.
    public static func render(_ kind: Kind, _ request: ScheduleRequest) -> String {
        let files = emit(kind, request)
        if files.count == 1 { return files[0].contents }
        return files.map { "# ---- \($0.name)\n\($0.contents)" }.joined(separator: "\n")
    }

    public static func render(_ kind: Kind, every minutes: Int, invocation: Invocation, image: String = "drill:latest") -> String {
        render(kind, ScheduleRequest(minutes: minutes, invocation: invocation, image: image))
    }
}
