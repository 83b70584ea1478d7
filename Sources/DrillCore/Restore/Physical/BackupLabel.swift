import Foundation

/// The `backup_label` file of a base backup, or the backup history file (`<segment>.<offset>.backup`) PostgreSQL
/// archives when the backup stops. Both are `KEY: value` lines; the history file adds the stop location and time.
public struct BackupLabel: Sendable, Equatable {
    /// `START WAL LOCATION: 0/2000028 (file 000000010000000000000002)`.
    public var startLSN: LSN
    /// The segment the backup started in (named in the label, so it carries the timeline).
    public var startSegmentName: String
    public var startTimeline: UInt32?
    public var checkpointLSN: LSN?
    public var method: String?
    public var label: String?
    /// As written (`2026-11-28 07:30:00 UTC`), in the source server's log time zone.
    public var startTimeText: String?
    public var stopLSN: LSN?
    public var stopSegmentName: String?
    public var stopTimeText: String?
    /// `INCREMENTAL FROM LSN` (PostgreSQL 17+ incremental backups): the start of the backup this one was taken on top
    /// of; nil for a full backup.
    public var incrementalFromLSN: LSN?
    /// `INCREMENTAL FROM TLI`.
    public var incrementalFromTimeline: UInt32?

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case missingStart
        public var description: String { "no START WAL LOCATION line: not a backup_label file" }
    }

    /// Parses `backup_label` or a `.backup` history file; only the start location is required.
    public static func parse(_ text: String) throws -> BackupLabel {
        var fields: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if fields[key] == nil { fields[key] = value }
        }
        guard let start = fields["START WAL LOCATION"].flatMap(locationAndFile) else { throw ParseError.missingStart }
        let stop = fields["STOP WAL LOCATION"].flatMap(locationAndFile)
        var label = BackupLabel(
            startLSN: start.0, startSegmentName: start.1, startTimeline: fields["START TIMELINE"].flatMap { UInt32($0) },
            checkpointLSN: fields["CHECKPOINT LOCATION"].flatMap { LSN($0) }, method: fields["BACKUP METHOD"],
            label: fields["LABEL"], startTimeText: fields["START TIME"], stopLSN: stop?.0, stopSegmentName: stop?.1,
            stopTimeText: fields["STOP TIME"])
        label.incrementalFromLSN = fields["INCREMENTAL FROM LSN"].flatMap { LSN($0) }
        label.incrementalFromTimeline = fields["INCREMENTAL FROM TLI"].flatMap { UInt32($0) }
        return label
    }

    /// `0/2000028 (file 000000010000000000000002)`.
    private static func locationAndFile(_ v: String) -> (LSN, String)? {
        let parts = v.split(separator: " ", maxSplits: 1)
        guard let lsn = parts.first.flatMap({ LSN(String($0)) }), parts.count == 2 else { return nil }
        var file = parts[1].trimmingCharacters(in: .whitespaces)
        guard file.hasPrefix("(file "), file.hasSuffix(")") else { return nil }
        file = String(file.dropFirst("(file ".count).dropLast())
        guard WALSegment.looksLikeName(file) else { return nil }
        return (lsn, file)
    }

    /// The start segment, with the size the cluster uses.
    public func startSegment(segmentSize: UInt64) -> WALSegment? { WALSegment(name: startSegmentName, segmentSize: segmentSize) }

    /// The name of the backup history file PostgreSQL archives for this backup: `<start segment>.<offset>.backup`.
    public func historyFileName(segmentSize: UInt64) -> String {
        startSegmentName + "." + hex8(startLSN.value % segmentSize) + ".backup"
    }

    /// `STOP TIME` (history files only), when its zone is UTC, GMT or a numeric offset.
    public var stopTime: Date? { stopTimeText.flatMap(Self.parseTime) }
    /// `START TIME`, when its zone is UTC, GMT or a numeric offset.
    public var startTime: Date? { startTimeText.flatMap(Self.parseTime) }

    /// `2026-11-28 07:30:00 UTC` (or `GMT`, or a numeric offset). Other zone abbreviations are ambiguous: nil.
    static func parseTime(_ text: String) -> Date? {
        let t = text.trimmingCharacters(in: .whitespaces)
        for suffix in [" UTC", " GMT"] where t.hasSuffix(suffix) {
            return PostgresTimestamp.parse(String(t.dropLast(suffix.count)) + "+00")
        }
        if let last = t.split(separator: " ").last, last.first == "+" || last.first == "-" {
            return PostgresTimestamp.parse(t.split(separator: " ").dropLast().joined(separator: " ") + String(last))
        }
        return nil
    }
}
