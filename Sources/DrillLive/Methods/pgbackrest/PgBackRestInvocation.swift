import DrillCore
import Foundation

/// How drill runs `pgbackrest`, as pure, tested functions: the command line (never a secret on it) and the
/// environment the one pgBackRest child gets.
public enum PgBackRestInvocation {
    /// The commands drill runs.
    public enum Command: String, Sendable, CaseIterable {
        case info, verify, repoLs = "repo-ls", restore, archiveGet = "archive-get"

        /// pgBackRest 2.45 refuses `--lock-path` for verify and repo-ls (error 031).
        var takesLockPath: Bool { self == .info || self == .restore || self == .archiveGet }
    }

    /// The options every command starts with: the configuration (`--config=<file>`, else `--no-config`, so the host's
    /// `/etc/pgbackrest.conf` is never read by surprise), the stanza and repository, a private lock folder, no log
    /// files, and nothing logged to standard output (warnings and errors go to standard error; verify logs at info, for
    /// the names of damaged files).
    public static func common(_ command: Command, _ s: PgBackRestSettings, lockPath: String) -> [String] {
        var args = [s.config.map { "--config=\($0)" } ?? "--no-config", "--stanza=\(s.stanza)", "--repo=\(s.repo)",
                    "--log-level-file=off", "--log-level-console=off",
                    "--log-level-stderr=\(command == .verify ? "info" : "warn")"]
        if command.takesLockPath { args.append("--lock-path=\(lockPath)") }
        return args
    }

    public static func info(_ s: PgBackRestSettings, set: String?, lockPath: String) -> [String] {
        common(.info, s, lockPath: lockPath) + (set.map { ["--set=\($0)"] } ?? []) + ["--output=json", "info"]
    }

    public static func verify(_ s: PgBackRestSettings, lockPath: String) -> [String] {
        common(.verify, s, lockPath: lockPath) + ["--output=text", "--verbose", "verify"]
    }

    /// `repo-ls` of the stanza's WAL archive `archiveID` (or one timeline+log folder of it).
    public static func archiveListing(_ s: PgBackRestSettings, archiveID: String, folder: String?, lockPath: String) -> [String] {
        let path = "archive/\(s.stanza)/\(archiveID)" + (folder.map { "/\($0)" } ?? "")
        return common(.repoLs, s, lockPath: lockPath) + (folder == nil ? ["--recurse"] : []) + ["--output=json", "repo-ls", path]
    }

    /// `pgbackrest restore` of backup `set` into `dataDirectory`: `--archive-mode=off` (the default `preserve` would let
    /// the copy push its new timeline into the repository), every tablespace remapped into the scratch folder, and
    /// whatever a production config file says about links, tablespace maps, partial restores, delta restores and
    /// recovery options reset (a restored symlink or mapped path could point into production's folders on this host);
    /// for a time target `--type=time --target=… --target-action=promote` (else `--type=default`). The recovery
    /// settings pgBackRest writes are then overridden by drill's own.
    public static func restore(_ s: PgBackRestSettings, set: String, dataDirectory: String, tablespaces: String,
                               target: Date?, lockPath: String) -> [String] {
        var args = common(.restore, s, lockPath: lockPath)
        args += ["--pg1-path=\(dataDirectory)", "--set=\(set)", "--archive-mode=off", "--reset-link-all", "--reset-link-map",
                 "--reset-tablespace-map", "--tablespace-map-all=\(tablespaces)", "--reset-db-include", "--reset-db-exclude",
                 "--reset-delta", "--reset-recovery-option"]
        if let target {
            args += ["--type=time", "--target=\(PhysicalSettings.postgresTime(target))", "--target-action=promote"]
        } else {
            args += ["--type=default"]
        }
        return args + ["restore"]
    }

    /// `pgbackrest archive-get <walName> <destination>`, synchronous (an `archive-async` in a production config would
    /// queue into production's spool folder); pgBackRest reads `pg_control` in `dataDirectory` to check the cluster is
    /// the stanza's.
    public static func archiveGet(_ s: PgBackRestSettings, walName: String, destination: String, dataDirectory: String,
                                  lockPath: String) -> [String] {
        common(.archiveGet, s, lockPath: lockPath)
            + ["--pg1-path=\(dataDirectory)", "--no-archive-async", "--reset-spool-path", "archive-get", walName, destination]
    }

    /// The environment of a pgBackRest child: every inherited `PGBACKREST_*` variable is removed (`unset`), except the
    /// repository settings (`PGBACKREST_REPO<n>_…`, where production's credentials live); the drill file's `options`
    /// are added as `PGBACKREST_<OPTION>`. Inherited variables such as `PGBACKREST_ARCHIVE_ASYNC` (without its spool path
    /// it breaks recovery), `PGBACKREST_CONFIG`, `PGBACKREST_LOCK_PATH` or `PGBACKREST_TYPE` would change what the drill
    /// does.
    public static func environment(_ s: PgBackRestSettings, inherited: [String: String]) -> (set: [String: String], unset: [String]) {
        var env: [String: String] = [:]
        for (k, v) in inherited where isRepositoryVariable(k) { env[k] = v }
        for (k, v) in s.options { env[PgBackRestOptions.environmentName(k)] = v }
        return (env, ["PGBACKREST_*"])
    }

    /// `PGBACKREST_REPO1_PATH`, `PGBACKREST_REPO2_S3_KEY_SECRET`, …
    static func isRepositoryVariable(_ name: String) -> Bool {
        guard name.hasPrefix("PGBACKREST_REPO") else { return false }
        let rest = name.dropFirst("PGBACKREST_REPO".count)
        let digits = rest.prefix { ("0"..."9").contains($0) }
        return !digits.isEmpty && rest.dropFirst(digits.count).hasPrefix("_") && rest.count > digits.count + 1
    }

    /// `restore_command` lines pgBackRest wrote into `postgresql.auto.conf`: they name the production repository, and
    /// drill's own recovery settings (appended later) replace them. Comments them out, keeping everything else.
    public static func withoutToolRecoveryCommand(_ autoConf: String) -> String {
        autoConf.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            let t = line.trimmingCharacters(in: .whitespaces)
            if t.hasPrefix("restore_command") && t.dropFirst("restore_command".count).trimmingCharacters(in: .whitespaces).hasPrefix("=") {
                return "# (drill: pgBackRest's restore_command replaced by drill's private WAL folder) # " + line
            }
            return String(line)
        }.joined(separator: "\n")
    }

    /// pgBackRest's error code in its message (`ERROR: [075]: …`), if any.
    public static func errorCode(in stderr: String) -> Int? {
        guard let r = stderr.range(of: "ERROR: [") else { return nil }
        return Int(stderr[r.upperBound...].prefix { ("0"..."9").contains($0) })
    }

    /// The error lines of pgBackRest's standard error (its `ERROR:` line and the hints after it), without secrets:
    /// pgBackRest redacts secret option values itself.
    public static func errorText(_ stderr: String) -> String {
        let lines = stderr.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        let start = lines.firstIndex { $0.hasPrefix("ERROR:") } ?? max(0, lines.count - 3)
        return lines[start...].prefix(4).joined(separator: " ")
    }
}
