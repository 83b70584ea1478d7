import Foundation

/// Scheduler units that call `drill run --due`: a crontab line, a systemd service and timer, or a Kubernetes CronJob.
///
/// One check cadence serves every tier: `drill run --due` runs whatever is due, so the check only has to fire at
/// least once in every schedule period. The cadence is the shortest gap between two instants of any tier's schedule,
/// capped at an hour and rounded down to a divisor of 60 minutes. Overlapping checks are prevented (`flock -n`,
/// a oneshot service, `concurrencyPolicy: Forbid`), since a drill can outlast the cadence.
public enum SchedulerUnits {
    public enum Kind: String, Sendable, CaseIterable {
        case cron, systemd, kubernetes
    }

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

        var arguments: [String] {
            ["run", "--due", "--config", configDir] + (archive.map { ["--archive", $0] } ?? [])
        }

        var commandLine: String { ([executable] + arguments).map(shellQuote).joined(separator: " ") }
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

    public static func render(_ kind: Kind, every minutes: Int, invocation: Invocation, image: String = "drill:latest") -> String {
        let cron = minutes >= 60 ? "0 * * * *" : "*/\(minutes) * * * *"
        let when = minutes >= 60 ? "every hour" : "every \(minutes) minutes"
        switch kind {
        case .cron:
            return """
                # drill: run the drills that are due, \(when) (UTC). Install with `crontab -e`, or save as
                # /etc/cron.d/drill after adding a user field (e.g. root) between the schedule and the command.
                CRON_TZ=UTC
                \(cron) flock -n /tmp/drill-run-due.lock \(invocation.commandLine) >>/var/log/drill-due.log 2>&1

                """
        case .systemd:
            let calendar = minutes >= 60 ? "*-*-* *:00:00 UTC" : "*-*-* *:00/\(minutes):00 UTC"
            return """
                # /etc/systemd/system/drill-due.service
                [Unit]
                Description=Run the PostgreSQL restore drills that are due
                Wants=network-online.target
                After=network-online.target

                [Service]
                Type=oneshot
                ExecStart=\(invocation.commandLine)

                # /etc/systemd/system/drill-due.timer  (enable with: systemctl enable --now drill-due.timer)
                [Unit]
                Description=Check for due restore drills \(when)

                [Timer]
                OnCalendar=\(calendar)
                Persistent=true

                [Install]
                WantedBy=timers.target

                """
        case .kubernetes:
            let args = invocation.arguments.map { "            - \(yamlQuote($0))" }.joined(separator: "\n")
            return """
                # A CronJob that runs the due drills \(when). Adjust the image, the config ConfigMap and the archive
                # volume to your cluster. Kubernetes 1.27+ (timeZone).
                apiVersion: batch/v1
                kind: CronJob
                metadata:
                  name: drill-due
                spec:
                  schedule: \(yamlQuote(cron))
                  timeZone: "Etc/UTC"
                  concurrencyPolicy: Forbid
                  startingDeadlineSeconds: \(minutes * 60)
                  jobTemplate:
                    spec:
                      backoffLimit: 0
                      template:
                        spec:
                          restartPolicy: Never
                          containers:
                          - name: drill
                            image: \(yamlQuote(image))
                            command:
                            - \(yamlQuote(invocation.executable))
                            args:
                \(args)
                            volumeMounts:
                            - name: config
                              mountPath: \(yamlQuote(invocation.configDir))
                              readOnly: true
                            - name: archive
                              mountPath: /var/lib/drill/archive
                          volumes:
                          - name: config
                            configMap:
                              name: drill-config
                          - name: archive
                            persistentVolumeClaim:
                              claimName: drill-archive

                """
        }
    }

    static func shellQuote(_ s: String) -> String {
        s.allSatisfy { $0.isLetter || $0.isNumber || "-_./=:@".contains($0) } && !s.isEmpty ? s : "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    static func yamlQuote(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
