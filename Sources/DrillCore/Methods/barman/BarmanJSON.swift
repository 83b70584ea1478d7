import Foundation

/// Parsers of Barman's JSON output (`barman -f json …`), Barman 3.4's shapes. Pure: tested against captured output.
public enum BarmanJSON {
    /// What a Barman command printed under `_ERROR`, `_WARNING` and `_INFO` (its messages in JSON mode).
    public struct Messages: Sendable, Equatable {
        public var errors: [String] = []
        public var warnings: [String] = []
        public var infos: [String] = []
        public init(errors: [String] = [], warnings: [String] = [], infos: [String] = []) {
            self.errors = errors
            self.warnings = warnings
            self.infos = infos
        }
    }

    public struct ParseError: Error, CustomStringConvertible {
        public var description: String
        init(_ d: String) { description = d }
    }

    static func object(_ text: String) throws -> [String: Any] {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw ParseError("empty output") }
        guard let o = try? JSONSerialization.jsonObject(with: Data(trimmed.utf8)) as? [String: Any] else {
            throw ParseError("not a JSON object: \(trimmed.prefix(200))")
        }
        return o
    }

    /// The `_ERROR` / `_WARNING` / `_INFO` lists of any command's JSON output (empty when it is not JSON).
    public static func messages(_ text: String) -> Messages {
        guard let o = try? object(text) else { return Messages() }
        func list(_ k: String) -> [String] { (o[k] as? [Any])?.map { "\($0)" } ?? [] }
        return Messages(errors: list("_ERROR"), warnings: list("_WARNING"), infos: list("_INFO"))
    }

    /// `barman -f json list-backups SERVER`: `{"SERVER": [{"backup_id", "status", "end_time_timestamp", …}]}`.
    public static func listBackups(_ text: String, server: String) throws -> [BarmanBackup] {
        let o = try object(text)
        if let errors = o["_ERROR"] as? [Any], !errors.isEmpty { throw ParseError(errors.map { "\($0)" }.joined(separator: "; ")) }
        guard let items = o[server] as? [[String: Any]] else {
            if o[server] == nil { throw ParseError("no entry for server \(server)") }
            throw ParseError("the entry for server \(server) is not a list")
        }
        return try items.map { item in
            guard let id = item["backup_id"] as? String else { throw ParseError("a backup without backup_id") }
            var b = BarmanBackup(id: id, status: (item["status"] as? String) ?? "")
            if let epoch = double(item["end_time_timestamp"]) {
                b.endTime = Date(timeIntervalSince1970: epoch)
                b.timeSource = "catalogue_epoch"
            }
            b.sizeBytes = int64(item["size_bytes"])
            return b
        }
    }

    /// `barman -f json show-backup SERVER ID`: `{"SERVER": {"backup_id", "status", "base_backup_information": {…},
    /// "postgresql_version", …}}`. Times are read from the zoned strings (`2026-12-01 21:08:32.683486+00:00`), else
    /// from the whole-second `*_timestamp` epochs.
    public static func showBackup(_ text: String, server: String) throws -> BarmanBackup {
        let o = try object(text)
        if let errors = o["_ERROR"] as? [Any], !errors.isEmpty { throw ParseError(errors.map { "\($0)" }.joined(separator: "; ")) }
        guard let item = o[server] as? [String: Any] else { throw ParseError("no entry for server \(server)") }
        guard let id = item["backup_id"] as? String else { throw ParseError("no backup_id") }
        var b = BarmanBackup(id: id, status: (item["status"] as? String) ?? "")
        b.postgresVersion = (item["postgresql_version"] as? NSNumber)?.intValue
        b.systemID = item["system_id"] as? String
        if let base = item["base_backup_information"] as? [String: Any] {
            b.beginWAL = base["begin_wal"] as? String
            b.endWAL = base["end_wal"] as? String
            b.beginLSN = base["begin_lsn"] as? String
            b.endLSN = base["end_lsn"] as? String
            b.timeline = (base["timeline"] as? NSNumber).map { UInt32(truncating: $0) }
            b.sizeBytes = int64(base["disk_usage_bytes"])
            let (begin, end) = (zoned(base["begin_time"]), zoned(base["end_time"]))
            if let end {
                b.beginTime = begin
                b.endTime = end
                b.timeSource = "show_backup"
            } else if let e = double(base["end_time_timestamp"]) {
                b.beginTime = double(base["begin_time_timestamp"]).map { Date(timeIntervalSince1970: $0) }
                b.endTime = Date(timeIntervalSince1970: e)
                b.timeSource = "catalogue_epoch"
            }
        }
        if let e = item["error"] as? String, !e.isEmpty { b.error = e }
        return b
    }

    /// The `barman_user` of a Barman configuration (`[barman]` section), `barman` when not set.
    public static func barmanUser(configuration text: String) -> String {
        var section = ""
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("["), line.hasSuffix("]") {
                section = line.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
                continue
            }
            guard section == "barman", let eq = line.firstIndex(where: { $0 == "=" || $0 == ":" }) else { continue }
            let key = line[..<eq].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            if key == "barman_user", !value.isEmpty { return value }
        }
        return "barman"
    }

    /// A Python `str(datetime)` with its UTC offset (`2026-12-01 21:08:32.683486+00:00`, `2026-12-01 21:08:32+02:00`).
    public static func zoned(_ value: Any?) -> Date? {
        guard let s = value as? String else { return nil }
        return Timestamp.parse(s.trimmingCharacters(in: .whitespaces), requireOffset: true, separators: [" ", "T"])
    }

    static func double(_ v: Any?) -> Double? {
        if let n = v as? NSNumber { return n.doubleValue }
        if let s = v as? String { return Double(s) }
        return nil
    }

    static func int64(_ v: Any?) -> Int64? {
        if let n = v as? NSNumber { return n.int64Value }
        if let s = v as? String { return Int64(s) }
        return nil
    }
}
