/// A crontab line that runs `drill run --due` at the check cadence, never twice at once (`flock -n`).
struct CronEmitter: ScheduleEmitter {
    var kind: SchedulerUnits.Kind { .cron }

    func emit(_ r: ScheduleRequest) -> [EmittedFile] {
        [EmittedFile(name: "crontab", contents: """
            # drill: run the drills that are due, \(r.cadenceWords) (UTC). Install with `crontab -e`, or save as
            # /etc/cron.d/drill after adding a user field (e.g. drill) between the schedule and the command.
            CRON_TZ=UTC
            \(r.cadenceCron) flock -n /tmp/drill-run-due.lock \(r.invocation.commandLine) >>/var/log/drill-due.log 2>&1

            """)]
    }
}
