import Foundation

extension MarkdownReport {
    /// Evidence rows of a pgBackRest drill: the backup restored, verify's result and the replay.
    static func pgBackRestRows(_ p: PgBackRestEvidence) -> String {
        var md = "| pgBackRest | stanza \(escape(p.stanza)), repo \(p.repo)\(p.config.map { ", \(escape($0))" } ?? ", --no-config")"
            + "\(p.toolVersion.map { " (\(escape($0)))" } ?? "") |\n"
        if let label = p.label {
            md += "| Backup set | \(label) (\(p.type ?? "?"))\(p.references.map { ", uses \($0.joined(separator: ", "))" } ?? "") |\n"
        }
        if let start = p.backupStartedAt, let stop = p.backupStoppedAt {
            md += "| Backup taken | \(RFC3339.format(start)) to \(RFC3339.format(stop))\(p.backupVersion.map { " by pgBackRest \($0)" } ?? "") |\n"
        }
        if let a = p.walStart, let b = p.walStop { md += "| Backup WAL | \(a) to \(b)\(p.archiveID.map { " (archive \($0))" } ?? "") |\n" }
        md += "| pgbackrest verify | \(p.verify.map { escape($0.summary) } ?? "**not run**") |\n"
        md += "| Recovery target | \(escape(p.target))\(p.targetTime.map { " (\(RFC3339.format($0, fractional: true)))" } ?? "") |\n"
        if let n = p.newestSegment {
            md += "| Newest archived segment | \(n)\(p.newestSegmentAt.map { " (\(RFC3339.format($0)))" } ?? "") |\n"
        }
        if let gap = p.firstMissingSegment { md += "| First missing segment | **\(gap)** |\n" }
        md += "| WAL fetched (archive-get) | \(p.segmentsFetched) segment\(p.segmentsFetched == 1 ? "" : "s"), \(p.bytesFetched) bytes |\n"
        if let lsn = p.replayedTo { md += "| Replayed to | \(lsn)\(p.timeline.map { ", now on timeline \($0)" } ?? "") |\n" }
        return md
    }
}
