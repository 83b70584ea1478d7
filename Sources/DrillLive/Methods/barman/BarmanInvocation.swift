import DrillCore
import Foundation

/// The `barman` command lines a `barman` drill runs (pure, tested). Barman 3.4.
public enum BarmanInvocation {
    /// `-c FILE` when the drill names a configuration; otherwise Barman's own search.
    static func prefix(_ s: BarmanSettings) -> [String] { s.config.map { ["-c", $0] } ?? [] }

    public static func listBackups(_ s: BarmanSettings) -> [String] { prefix(s) + ["-f", "json", "list-backups", s.server] }
    public static func showBackup(_ s: BarmanSettings, id: String) -> [String] { prefix(s) + ["-f", "json", "show-backup", s.server, id] }
    public static func checkBackup(_ s: BarmanSettings, id: String) -> [String] { prefix(s) + ["-f", "json", "check-backup", s.server, id] }
    public static func verifyBackup(_ s: BarmanSettings, id: String) -> [String] { prefix(s) + ["-f", "json", "verify-backup", s.server, id] }
    public static func walFiles(_ s: BarmanSettings, id: String) -> [String] {
        prefix(s) + ["-f", "json", "list-files", "--target", "wal", s.server, id]
    }
    /// `barman recover --get-wal` without a target (`--target-*` would make Barman write recovery settings drill
    /// writes itself): only the backup's files are copied into `destination`; drill delivers the WAL from the
    /// catalogue while the server replays (the `restore_command` Barman writes is overridden by drill's).
    public static func recover(_ s: BarmanSettings, id: String, destination: String) -> [String] {
        prefix(s) + ["recover", "--get-wal", s.server, id, destination]
    }

    /// The environment Barman runs with: the PostgreSQL binaries' folder at the end of `PATH` (so `verify-backup`
    /// finds `pg_verifybackup`, which Debian keeps out of `/usr/bin`; a `path_prefix` in Barman's configuration still
    /// comes first); drill's own PostgreSQL and AWS variables are not passed on.
    public static func environment(path: String?, postgresBin: String?) -> (set: [String: String], unset: [String]) {
        var p = path ?? "/usr/local/bin:/usr/bin:/bin"
        if let bin = postgresBin, !bin.isEmpty, !p.split(separator: ":").contains(Substring(bin)) { p += ":" + bin }
        return (["PATH": p, "LC_ALL": "C.UTF-8"], ["PG*", "AWS_*"])
    }

    /// The configuration file Barman reads: the drill's, else the first of `~/.barman.conf`, `/etc/barman.conf`,
    /// `/etc/barman/barman.conf` that exists (Barman's own order).
    public static func configurationFile(_ s: BarmanSettings, home: String, exists: (String) -> Bool) -> String? {
        if let c = s.config { return c }
        return [(home as NSString).appendingPathComponent(".barman.conf"), "/etc/barman.conf", "/etc/barman/barman.conf"]
            .first(where: exists)
    }

    /// What a failed `barman` command means, as a drill error (the JSON `_ERROR` messages, else its last output line).
    public static func failure(_ what: String, _ s: BarmanSettings, exitCode: Int32?, stdout: String, stderr: String) -> DrillError {
        let messages = BarmanJSON.messages(stdout).errors
        let text = messages.isEmpty ? lastLine(stderr + "\n" + stdout) : messages.joined(separator: "; ")
        let lower = text.lowercased()
        let config = s.config ?? "Barman's default configuration"
        if lower.contains("unknown server") {
            return DrillError(.backupNotFound, "Barman has no server \"\(s.server)\" in \(config) (\(what): \(text))")
        }
        if lower.contains("please run barman as") {
            return DrillError(.unsupported, "\(what): \(text). Barman runs only as its barman_user: run drill as that user or as root (Barman then switches to it)")
        }
        if lower.contains("configuration file") && lower.contains("does not exist") {
            return DrillError(.backupUnreadable, "\(what): \(text)")
        }
        if lower.contains("unknown backup") {
            return DrillError(.backupNotFound, "\(what) for server \(s.server): \(text)")
        }
        return DrillError(.backupUnreadable, "\(what) failed (exit status \(exitCode.map(String.init) ?? "?")): \(text)")
    }

    static func lastLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.last { !$0.isEmpty } ?? "no output"
    }

    /// `barman check-backup`'s verdict: its exit status and `_ERROR` messages.
    public static func checkResult(exitCode: Int32?, stdout: String, stderr: String) -> BarmanEvidence.Check {
        let m = BarmanJSON.messages(stdout)
        let ok = exitCode == 0 && m.errors.isEmpty
        let detail = !m.errors.isEmpty ? m.errors.joined(separator: "; ") : (ok ? "the WAL from the backup's start to its end is archived" : lastLine(stderr))
        return BarmanEvidence.Check(tool: "barman check-backup", ok: ok, detail: detail)
    }

    /// `barman verify-backup`'s verdict, and whether it could run at all (it cannot without pg_verifybackup or without
    /// a `backup_manifest`, e.g. for rsync backups: that says nothing about the backup).
    public static func verifyResult(exitCode: Int32?, stdout: String, stderr: String) -> (check: BarmanEvidence.Check, available: Bool) {
        let m = BarmanJSON.messages(stdout)
        let ok = exitCode == 0 && m.errors.isEmpty
        let errors = m.errors.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        let text = errors.joined(separator: "; ")
        let unavailable = !ok && (text.contains("pg_verifybackup not found") ||
            (text.contains("backup_manifest") && text.contains("No such file")))
        let detail = ok ? (m.infos.last ?? "backup successfully verified") : (text.isEmpty ? lastLine(stderr) : text)
        return (BarmanEvidence.Check(tool: "barman verify-backup", ok: ok, detail: detail), !unavailable)
    }
}
