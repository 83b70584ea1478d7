import Foundation

/// What a drill may have left behind: scratch folders and server processes.
public enum Leftovers {
    /// Running `postgres` processes whose command line mentions `path`.
    public static func postgresProcesses(under path: String) -> [Int32] {
        let fm = FileManager.default
        var out: [Int32] = []
        for entry in (try? fm.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry), let data = fm.contents(atPath: "/proc/\(entry)/cmdline") else { continue }
            let cmd = String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
            if cmd.contains("postgres"), cmd.contains(path) { out.append(pid) }
        }
        return out
    }

    /// Entries of a scratch root that look like drill's (scratch clusters and staging folders).
    public static func scratchEntries(in root: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).filter { $0.hasPrefix("drill-") }
    }
}
