import Foundation

/// A `pg_dumpall` cluster dump (plain SQL), read as data, never run as it is: its globals (roles, role memberships)
/// are parsed into statements drill writes itself, and each database's section is a `pg_dump` body restored like a
/// plain dump (through `PlainSQLFilter`, as the restore role).
///
/// What the globals keep of a role: its name, `LOGIN`/`NOLOGIN` and `INHERIT`/`NOINHERIT`. `SUPERUSER`, `CREATEROLE`,
/// `CREATEDB`, `REPLICATION`, `BYPASSRLS`, passwords and per-role settings are not restored (the restored copy must not
/// hand out privileges or hold credentials); the role named like the scratch cluster's superuser (`postgres`) and the
/// restore role are kept as drill made them. Memberships are restored among restored roles only (never into a
/// predefined `pg_*` role such as `pg_read_server_files`).
public enum ClusterDump {
    public struct Role: Sendable, Equatable {
        public var name: String
        public var login: Bool
        public var inherit: Bool
        public init(name: String, login: Bool = false, inherit: Bool = true) {
            self.name = name
            self.login = login
            self.inherit = inherit
        }

        /// `CREATE ROLE "alice" LOGIN INHERIT NOSUPERUSER …`: written by drill, identifiers quoted.
        public var createStatement: String {
            "CREATE ROLE \(quote(name)) \(login ? "LOGIN" : "NOLOGIN") \(inherit ? "INHERIT" : "NOINHERIT") "
                + "NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"
        }
    }

    public struct Globals: Sendable, Equatable {
        public var roles: [Role] = []
        /// (role, member): `GRANT role TO member`.
        public var memberships: [(String, String)] = []
        /// What was read but not restored, one note each (`attributes SUPERUSER of carol`, `ALTER ROLE bob SET …`).
        public var skipped: [String] = []

        public init() {}

        public static func == (a: Self, b: Self) -> Bool {
            a.roles == b.roles && a.memberships.map { [$0.0, $0.1] } == b.memberships.map { [$0.0, $0.1] } && a.skipped == b.skipped
        }

        /// `GRANT "bob" TO "alice"` statements for memberships between restored roles.
        public var grantStatements: [String] {
            let names = Set(roles.map(\.name))
            return memberships.filter { names.contains($0.0) && names.contains($0.1) }.map { "GRANT \(quote($0.0)) TO \(quote($0.1))" }
        }
    }

    static let droppedAttributes: Set<String> = ["SUPERUSER", "CREATEROLE", "CREATEDB", "REPLICATION", "BYPASSRLS"]

    /// Parses the globals part (before `-- Databases`). `keep` are role names never restored (the scratch superuser,
    /// the restore role).
    public static func parseGlobals(_ text: String, keep: Set<String>) -> Globals {
        var g = Globals()
        var index: [String: Int] = [:]
        for raw in text.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            guard line.hasSuffix(";") else { continue }
            var s = Substring(line.dropLast())
            if consume(&s, "CREATE ROLE "), let name = identifier(&s), s.trimmingCharacters(in: .whitespaces).isEmpty {
                if keep.contains(name) { g.skipped.append("role \(name) (the scratch cluster's own is kept)"); continue }
                if index[name] == nil {
                    index[name] = g.roles.count
                    g.roles.append(Role(name: name))
                }
            } else if consume(&s, "ALTER ROLE "), let name = identifier(&s) {
                guard !keep.contains(name) else { continue }
                if consume(&s, " WITH ") {
                    guard let i = index[name] else { continue }
                    var dropped: [String] = []
                    for word in s.split(separator: " ").map(String.init) {
                        switch word {
                        case "LOGIN": g.roles[i].login = true
                        case "NOLOGIN": g.roles[i].login = false
                        case "INHERIT": g.roles[i].inherit = true
                        case "NOINHERIT": g.roles[i].inherit = false
                        case "PASSWORD": dropped.append("PASSWORD")
                        default: if droppedAttributes.contains(word) { dropped.append(word) }
                        }
                    }
                    if !dropped.isEmpty { g.skipped.append("\(dropped.joined(separator: ", ")) of role \(name)") }
                } else {
                    g.skipped.append("a setting of role \(name) (ALTER ROLE … SET)")
                }
            } else if consume(&s, "GRANT "), let role = identifier(&s), consume(&s, " TO "), let member = identifier(&s) {
                if role.hasPrefix("pg_") || keep.contains(role) || keep.contains(member) {
                    g.skipped.append("membership of \(member) in \(role)")
                } else {
                    g.memberships.append((role, member))
                }
            } else if line.hasPrefix("CREATE TABLESPACE ") {
                g.skipped.append("a tablespace (\(line.prefix(60))…)")
            }
        }
        return g
    }

    /// A database section's header line: `-- Database "shop" dump` → `shop`.
    public static func sectionDatabase(_ line: Substring) -> String? {
        guard line.hasPrefix("-- Database \""), line.hasSuffix("\" dump") else { return nil }
        let inner = line.dropFirst("-- Database \"".count).dropLast("\" dump".count)
        return inner.isEmpty ? nil : String(inner)
    }

    /// `ENCODING = 'UTF8'` of a `CREATE DATABASE` line, when it is a plain name.
    public static func encoding(ofCreateDatabase line: Substring) -> String? {
        guard line.hasPrefix("CREATE DATABASE "), let r = line.range(of: "ENCODING = '") else { return nil }
        let value = line[r.upperBound...].prefix { $0 != "'" }
        return !value.isEmpty && value.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) ? String(value) : nil
    }

    public static func quote(_ name: String) -> String { "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }

    private static func consume(_ s: inout Substring, _ prefix: String) -> Bool {
        guard s.hasPrefix(prefix) else { return false }
        s = s.dropFirst(prefix.count)
        return true
    }

    /// A bare (`alice`) or quoted (`"Mixed ""Case"""`) identifier.
    static func identifier(_ s: inout Substring) -> String? {
        if s.first == "\"" {
            var out = ""
            var i = s.index(after: s.startIndex)
            while i < s.endIndex {
                if s[i] == "\"" {
                    let next = s.index(after: i)
                    if next < s.endIndex, s[next] == "\"" { out.append("\""); i = s.index(after: next); continue }
                    s = s[next...]
                    return out.isEmpty ? nil : out
                }
                out.append(s[i])
                i = s.index(after: i)
            }
            return nil
        }
        let word = s.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "$" }
        guard !word.isEmpty, !(word.first!.isNumber) else { return nil }
        s = s.dropFirst(word.count)
        return String(word)
    }
}
