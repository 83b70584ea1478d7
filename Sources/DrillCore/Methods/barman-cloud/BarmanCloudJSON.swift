import Foundation

/// Parsers of what the barman-cloud tools (3.4) write and print. Pure: tested against captured output.
public enum BarmanCloudJSON {
    /// `barman-cloud-backup-list --format json`: `{"backups_list": [{"backup_id", "status", "begin_time", "end_time",
    /// "begin_wal", "end_wal", "begin_xlog", "end_xlog", "timeline", "systemid", "version", "error", …}]}`.
    ///
    /// Its `begin_time`/`end_time` are `ctime` strings without a zone (`Tue Dec  1 21:04:55 2026`: the wall time of the
    /// backed-up server's session time zone). They are read as UTC and used only to order backups; the zoned times
    /// come from each backup's `backup.info` (`backupInfo`).
    public static func backupList(_ text: String) throws -> [BarmanBackup] {
        let o = try BarmanJSON.object(text)
        guard let items = o["backups_list"] as? [[String: Any]] else {
            throw BarmanJSON.ParseError("no backups_list in the output")
        }
        return try items.map { item in
            guard let id = item["backup_id"] as? String else { throw BarmanJSON.ParseError("a backup without backup_id") }
            var b = BarmanBackup(id: id, status: (item["status"] as? String) ?? "")
            b.beginTime = ctime(item["begin_time"] as? String)
            b.endTime = ctime(item["end_time"] as? String)
            if b.endTime != nil { b.timeSource = "catalogue_ctime_utc" }
            b.beginWAL = item["begin_wal"] as? String
            b.endWAL = item["end_wal"] as? String
            b.beginLSN = item["begin_xlog"] as? String
            b.endLSN = item["end_xlog"] as? String
            b.timeline = (item["timeline"] as? NSNumber).map { UInt32(truncating: $0) }
            b.systemID = item["systemid"] as? String
            b.postgresVersion = (item["version"] as? NSNumber)?.intValue
            b.sizeBytes = (item["size"] as? NSNumber)?.int64Value
            b.segmentSize = (item["xlog_segment_size"] as? NSNumber)?.uint64Value
            if let e = item["error"] as? String, !e.isEmpty { b.error = e }
            return b
        }
    }

    /// A backup's `backup.info` (`key=value` lines, Python reprs; it has no `backup_id`: the id is its folder's name):
    /// its zoned `begin_time`/`end_time` (`2026-12-01 21:04:55.044710+00:00`), WAL range, LSNs, timeline and status.
    /// Nil when it has no `status` (not a backup.info).
    public static func backupInfo(_ text: String, id: String) -> BarmanBackup? {
        var fields: [String: String] = [:]
        for raw in text.split(whereSeparator: \.isNewline) {
            guard let eq = raw.firstIndex(of: "=") else { continue }
            fields[String(raw[..<eq]).trimmingCharacters(in: .whitespaces)] = String(raw[raw.index(after: eq)...])
        }
        func value(_ k: String) -> String? {
            guard let v = fields[k]?.trimmingCharacters(in: .whitespaces), !v.isEmpty, v != "None" else { return nil }
            return v
        }
        guard let status = value("status") else { return nil }
        var b = BarmanBackup(id: id, status: status)
        b.beginTime = BarmanJSON.zoned(value("begin_time"))
        b.endTime = BarmanJSON.zoned(value("end_time"))
        if b.endTime != nil { b.timeSource = "backup_info" }
        b.beginWAL = value("begin_wal")
        b.endWAL = value("end_wal")
        b.beginLSN = value("begin_xlog")
        b.endLSN = value("end_xlog")
        b.timeline = value("timeline").flatMap { UInt32($0) }
        b.systemID = value("systemid")
        b.postgresVersion = value("version").flatMap { Int($0) }
        b.sizeBytes = value("size").flatMap { Int64($0) }
        b.segmentSize = value("xlog_segment_size").flatMap { UInt64($0) }
        b.error = value("error")
        return b
    }

    /// `Tue Dec  1 21:04:55 2026` (Python's `datetime.ctime()`), read as UTC.
    public static func ctime(_ text: String?) -> Date? {
        guard let text else { return nil }
        let parts = text.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 5 else { return nil }
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        guard let m = months.firstIndex(of: String(parts[1])), let day = Int(parts[2]), let year = Int(parts[4]) else { return nil }
        let hms = parts[3].split(separator: ":").compactMap { Int($0) }
        guard hms.count == 3 else { return nil }
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "UTC")!
        return cal.date(from: DateComponents(year: year, month: m + 1, day: day, hour: hms[0], minute: hms[1], second: hms[2]))
    }

    /// The tool's error lines (`2026-12-01 21:07:38,289 [3051] ERROR: …` → the text after `ERROR: `), newest last.
    public static func errorLines(_ stderr: String) -> [String] {
        stderr.split(whereSeparator: \.isNewline).compactMap { line in
            guard let r = line.range(of: "ERROR: ") else { return nil }
            return String(line[r.upperBound...]).trimmingCharacters(in: .whitespaces)
        }
    }
}
