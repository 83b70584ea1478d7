import Foundation

/// Reads `pg_waldump --rmgr=Transaction` output.
public enum WALDump {
    /// The time of the last `COMMIT` record (`desc: COMMIT 2026-11-28 07:30:00.123456 UTC; …`). pg_waldump prints
    /// times in its own time zone, so it must run with `TZ=UTC`; lines in another zone are ignored.
    public static func lastCommitTime(in output: String) -> Date? {
        var last: Date?
        for line in output.split(separator: "\n") {
            guard let r = line.range(of: "desc: COMMIT ") else { continue }
            let rest = line[r.upperBound...].split(separator: ";").first.map(String.init) ?? ""
            let words = rest.split(separator: " ")
            guard words.count >= 3, words[2] == "UTC" else { continue }
            if let d = PostgresTimestamp.parse("\(words[0]) \(words[1])+00") { last = d }
        }
        return last
    }
}
