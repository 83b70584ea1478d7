import Foundation

/// A statement of a restore that PostgreSQL refused for lack of a privilege, read from `pg_restore`'s or `psql`'s
/// error output: the error, the statement the tool sent (`Command was:` / `STATEMENT:`), and, when the refused
/// statement ran inside a function (a materialized view's refresh, `DO … EXECUTE`), the inner statement.
public struct PrivilegeRefusal: Sendable, Equatable {
    public var error: String
    public var statement: String?
    public var context: String?

    /// The longest statement or context kept (they come from the backup, which is untrusted and may be huge).
    public static let maxLength = 300

    /// The first privilege error in `stderr`, nil when the restore failed for another reason.
    public static func find(in stderr: String) -> PrivilegeRefusal? {
        let lines = stderr.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let i = lines.firstIndex(where: { line in
            guard let r = line.range(of: "ERROR:") else { return false }
            return isPrivilegeError(String(line[r.upperBound...]))
        }) else { return nil }
        let error = clip(String(lines[i][lines[i].range(of: "ERROR:")!.upperBound...]))
        var refusal = PrivilegeRefusal(error: error)
        var j = i + 1
        while j < lines.count, !lines[j].contains("ERROR:") {
            let line = lines[j]
            if line.hasPrefix("CONTEXT:"), refusal.context == nil {
                var c = line.dropFirst("CONTEXT:".count).trimmingCharacters(in: .whitespaces)
                if c.hasPrefix("SQL statement \""), c.hasSuffix("\"") { c = String(c.dropFirst(15).dropLast()) }
                refusal.context = clip(c)
            } else if let r = line.range(of: "Command was: ") ?? line.range(of: "STATEMENT:") {
                var text = String(line[r.upperBound...])
                var k = j + 1
                // A statement runs on over the following lines until the tool's next message.
                while k < lines.count, !lines[k].isEmpty, !lines[k].hasPrefix("pg_restore:"), !lines[k].hasPrefix("psql:"),
                      text.count < maxLength {
                    text += " " + lines[k]
                    k += 1
                }
                refusal.statement = clip(text)
                j = k - 1
            }
            j += 1
        }
        return refusal
    }

    /// PostgreSQL's insufficient-privilege messages (SQLSTATE 42501 and the superuser checks), not the operating
    /// system's "Permission denied" on a file.
    static func isPrivilegeError(_ message: String) -> Bool {
        let m = message.lowercased()
        return ["permission denied for ", "permission denied to ", "must be superuser", "must be owner of",
                "must have privileges", "privileges of the pg_", "must be a member of", "access to library",
                "only superusers", "must have admin option"].contains { m.contains($0) }
    }

    static func clip(_ s: String) -> String {
        let one = s.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).joined(separator: " ")
        return one.count > maxLength ? String(one.prefix(maxLength)) + "…" : one
    }

    /// The finding for this refusal (see `RestoreAs.refusalFinding`).
    public func finding(role: String?) -> String {
        RestoreAs.refusalFinding(statement: statement, error: error, context: context, role: role)
    }
}
