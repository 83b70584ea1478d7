/// A oneshot service that runs `drill run --due` as a dedicated account, sandboxed by systemd, and a timer that
/// starts it at the check cadence (a oneshot service is never started twice at once).
struct SystemdEmitter: ScheduleEmitter {
    var kind: SchedulerUnits.Kind { .systemd }

    func emit(_ r: ScheduleRequest) -> [EmittedFile] {
        let calendar = r.minutes >= 60 ? "*-*-* *:00:00 UTC" : "*-*-* *:00/\(r.minutes):00 UTC"
        let exec = ([r.invocation.executable] + r.invocation.arguments).map(Quote.systemd).joined(separator: " ")
        // The archive, when it is a folder, is the one place outside the service's own directories it writes.
        var writable = ""
        if let archive = r.invocation.archive, !archive.contains("://") {
            writable = "ReadWritePaths=\(Quote.systemd(archive))\n"
        }
        let service = """
            # drill-due.service: runs the PostgreSQL restore drills that are due. Install into /etc/systemd/system/
            # with drill-due.timer; the account: useradd --system --home-dir /var/lib/drill --create-home drill
            [Unit]
            Description=Run the PostgreSQL restore drills that are due
            Wants=network-online.target
            After=network-online.target

            [Service]
            Type=oneshot
            User=\(r.user)
            Group=\(r.user)
            ExecStart=\(exec)
            # Scratch clusters and staged backups go to the service's private /var/tmp, removed when it stops; the
            # initdb template cache to /var/cache/drill.
            Environment=DRILL_SCRATCH_DIR=\(Quote.systemd(r.scratchDirectory))
            Environment=DRILL_CACHE_DIR=/var/cache/drill
            CacheDirectory=drill
            StateDirectory=drill
            PrivateTmp=yes
            ProtectSystem=strict
            ProtectHome=read-only
            \(writable)NoNewPrivileges=yes
            PrivateDevices=yes
            ProtectKernelTunables=yes
            ProtectKernelModules=yes
            ProtectControlGroups=yes
            RestrictSUIDSGID=yes
            LockPersonality=yes
            # Stopping the service (or a timeout) ends every process it started, scratch servers included.
            KillMode=control-group

            """
        let timer = """
            # drill-due.timer: enable with `systemctl enable --now drill-due.timer`.
            [Unit]
            Description=Check for due restore drills \(r.cadenceWords)

            [Timer]
            OnCalendar=\(calendar)
            Persistent=true

            [Install]
            WantedBy=timers.target

            """
        return [EmittedFile(name: "drill-due.service", contents: service), EmittedFile(name: "drill-due.timer", contents: timer)]
    }
}
