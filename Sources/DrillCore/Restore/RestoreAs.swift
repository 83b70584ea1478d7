/// Whom the restored SQL runs as (`restore.as`).
///
/// A backup is untrusted input: by default (`owner`) the restore, and the checks after it, connect as a role that owns
/// the scratch database and nothing else, without superuser rights, so `COPY … TO PROGRAM`, `pg_read_file`,
/// `CREATE ROLE`, `ALTER SYSTEM`, untrusted languages and untrusted extensions are refused by PostgreSQL itself,
/// however the SQL spells them. `superuser` restores as the scratch cluster's superuser, for a trusted backup that
/// needs one (an untrusted extension such as `postgres_fdw`, a C function); the report records it.
public enum RestoreAs: String, Sendable, Codable, CaseIterable {
    case owner
    case superuser

    /// The role an embedded scratch cluster restores as by default: it owns the scratch database.
    public static let ownerRole = "drill_restore"

    /// The finding of a restore refused a privilege: names the statement, the error and the setting that allows it.
    public static func refusalFinding(statement: String?, error: String, context: String?, role: String?) -> String {
        var text = "The restore was refused a privilege: "
        if let statement { text += "\(statement) failed with \"\(error)\"" } else { text += "\"\(error)\"" }
        if let context { text += " (in \(context))" }
        text += ". drill restores as \(role.map { "the role \($0), which owns the scratch database but is" } ?? "a role that is") not a superuser, so that a backup cannot run programs, read or write the server's files, or create roles on this host."
        text += " If this backup is trusted and really needs a superuser (an untrusted extension, a C function), set \"restore\": { \"as\": \"superuser\" } in the drill file."
        return text
    }
}
