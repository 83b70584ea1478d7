import DrillCore
import Foundation

/// Reading the configuration files a clone brought from production (pure, tested).
public enum ClonedConfiguration {
    /// The settings the report shows for a clone, inherited and effective.
    public static let reported = ["primary_slot_name", "synchronous_standby_names", "archive_mode", "cluster_name",
                                  "primary_conninfo", "restore_command", "archive_cleanup_command", "hot_standby", "port"]

    /// `name = value` lines of `postgresql.conf`-style texts, later lines and later texts winning (include directives
    /// are not followed).
    public static func settings(in texts: [String]) -> [String: String] {
        var out: [String: String] = [:]
        for text in texts {
            for raw in text.split(whereSeparator: \.isNewline) {
                guard let (k, v) = parse(String(raw)) else { continue }
                out[k] = v
            }
        }
        return out
    }

    /// The replication settings among `all`, with any connection string replaced by `(set)`.
    public static func replicationSettings(_ all: [String: String]) -> [String: String] {
        var out: [String: String] = [:]
        for k in reported where k != "port" && k != "hot_standby" {
            if let v = all[k] { out[k] = k == "primary_conninfo" && !v.isEmpty ? "(set)" : v }
        }
        return out
    }

    static func parse(_ line: String) -> (String, String)? {
        var s = Substring(line).drop { $0 == " " || $0 == "\t" }
        guard let first = s.first, first.isLetter || first == "_" else { return nil }
        let name = s.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." }
        s = s.dropFirst(name.count).drop { $0 == " " || $0 == "\t" }
        if s.first == "=" { s = s.dropFirst().drop { $0 == " " || $0 == "\t" } }
        var value = ""
        if s.first == "'" {
            var it = s.dropFirst()
            while let c = it.first {
                it = it.dropFirst()
                if c == "'" {
                    if it.first == "'" {
                        value.append("'")
                        it = it.dropFirst()
                        continue
                    }
                    break
                }
                if c == "\\", let n = it.first {
                    value.append(n)
                    it = it.dropFirst()
                    continue
                }
                value.append(c)
            }
        } else {
            value = String(s.prefix { $0 != "#" && $0 != " " && $0 != "\t" })
        }
        return (name.lowercased(), value)
    }

    /// Removes every line setting `name` from a configuration file.
    public static func removeSetting(_ name: String, in path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else { return }
        let kept = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            .filter { parse(String($0))?.0 != name }
        try AtomicFile.write(Data(kept.joined(separator: "\n").utf8), to: path, mode: 0o600)
    }
}
