import Foundation

/// The Markdown report an auditor reads: verdict, targets against measurements, phases, checks, findings, evidence.
public enum MarkdownReport {
    public static func render(_ r: DrillReport) -> String {
        var md = "# Drill report: \(r.drill) (\(r.tier))\n\n"
        md += "**Verdict: \(verdict(r.status))**\n\n"
        md += "| | |\n|---|---|\n"
        md += "| Started | \(RFC3339.format(r.startedAt)) |\n"
        md += "| Finished | \(RFC3339.format(r.finishedAt)) |\n"
        md += "| Host | \(escape(r.environment.host)) |\n"
        md += "| drill | \(escape(r.environment.drillVersion)) |\n"
        if let v = r.environment.serverVersion { md += "| Scratch server | PostgreSQL \(escape(v)) |\n" }
        md += "\n## Targets and measurements\n\n"
        md += "| | Target | Measured | Met |\n|---|---|---|---|\n"
        md += "| RTO | \(DrillDuration(seconds: r.target.rtoSeconds)) | \(r.measured.rtoSeconds.map(formatSeconds) ?? "not reached") | \(met(r.measured.rtoSeconds, r.target.rtoSeconds)) |\n"
        md += "| RPO | \(DrillDuration(seconds: r.target.rpoSeconds)) | \(r.measured.rpoSeconds.map(formatSeconds) ?? "unknown") | \(met(r.measured.rpoSeconds, r.target.rpoSeconds)) |\n\n"
        if let rp = r.measured.recoveryPoint {
            md += "Recovery point: \(RFC3339.format(rp)) (source: \(r.measured.recoveryPointSource ?? "unknown")). "
        }
        md += "Restore profile: `\(r.restore.profile.rawValue)`"
        md += r.restore.profile == .fast ? " (fsync off: the measured RTO is optimistic)" : " (fsync on)"
        md += ", \(r.restore.jobs) job\(r.restore.jobs == 1 ? "" : "s")"
        if let mode = r.restore.mode { md += ", \(mode == "stream" ? "streamed from the store" : "restored from a local file")" }
        md += ".\n\n"
        md += "## Phases\n\n| Phase | Start | Duration | OK |\n|---|---|---|---|\n"
        for p in r.phases {
            md += "| \(p.name) | +\(formatSeconds(p.startOffsetSeconds)) | \(formatSeconds(p.seconds)) | \(p.ok ? "yes" : "**no**") |\n"
        }
        if let t = r.scratch.teardownSeconds { md += "| teardown (not in RTO) | | \(formatSeconds(t)) | \(r.scratch.removed ? "yes" : "**no**") |\n" }
        md += "\n## Checks\n\n"
        if r.checks.isEmpty {
            md += "No checks ran.\n"
        } else {
            md += "| Check | Expected | Observed | Passed |\n|---|---|---|---|\n"
            for c in r.checks {
                var observed = c.observed.map { "`\(escape(truncate($0, 80)))`" } ?? "—"
                if c.observedTruncated == true, let bytes = c.observedBytes { observed += " (\(bytes) bytes)" }
                if c.rowsTruncated == true, let rows = c.rows { observed += " (\(rows)+ rows)" }
                if let sample = c.unexpectedSample { observed += "; e.g. \(escape(truncate(sample, 160)))" }
                md += "| \(escape(c.name)) | \(escape(c.expected)) | \(observed)\(c.error.map { " (\(escape(truncate($0, 200))))" } ?? "") | \(c.passed ? "yes" : "**no**") |\n"
            }
        }
        md += "\n## Findings\n\n"
        md += r.findings.isEmpty ? "None.\n" : r.findings.map { "- \(escape($0))" }.joined(separator: "\n") + "\n"
        md += "\n## Evidence\n\n"
        md += "| | |\n|---|---|\n"
        md += "| Backup | \(escape(r.backup.uri ?? "—")) |\n"
        if let f = r.backup.format { md += "| Format | \(f) |\n" }
        if let s = r.backup.sizeBytes { md += "| Size | \(s) bytes |\n" }
        if let h = r.backup.sha256 { md += "| SHA-256 | `\(h)` |\n" }
        if let sc = r.backup.sidecar { md += "| Sidecar digest | \(sc) |\n" }
        if let c = r.backup.createdAt { md += "| Created (archive header) | \(RFC3339.format(c)) |\n" }
        if let m = r.backup.modifiedAt { md += "| Modified | \(RFC3339.format(m)) |\n" }
        if let db = r.backup.sourceDatabase { md += "| Source database | \(escape(db)) (PostgreSQL \(escape(r.backup.sourceServerVersion ?? "?"))) |\n" }
        if let b = r.barman { md += barmanRows(b) }
        if let w = r.wal { md += walRows(w) }
        if let p = r.pgbackrest { md += pgBackRestRows(p) }
        if let rep = r.replica { md += replicaRows(rep) }
        if let t = r.restore.tool { md += "| Restore tool | \(escape(t)) \(escape(r.restore.toolVersion ?? "")) |\n" }
        md += "| Scratch | \(r.scratch.kind)\(r.scratch.database.map { ", database \(escape($0))" } ?? ""): \(r.scratch.kept ? "kept (--keep)" : r.scratch.detail == DrillReport.Scratch.noneCreated ? "none was created" : r.scratch.removed ? "removed" : "**not removed**") |\n"
        if let prev = r.previousSHA256 { md += "| Previous report SHA-256 | `\(prev)` |\n" }
        if let err = r.restore.stderr, !err.isEmpty {
            md += "\n### Restore tool output (trimmed)\n\n```\n\(err)\n```\n"
        }
        return md
    }

    public static func verdict(_ s: DrillStatus) -> String {
        switch s {
        case .compliant: "COMPLIANT"
        case .nonCompliant: "NON-COMPLIANT"
        case .failed: "FAILED"
        case .aborted: "ABORTED"
        }
    }

    static func met(_ measured: Double?, _ target: Int64) -> String {
        guard let measured else { return "**no**" }
        return measured <= Double(target) ? "yes" : "**no**"
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
    }

    static func truncate(_ s: String, _ n: Int) -> String { s.count > n ? String(s.prefix(n)) + "…" : s }
}

extension MarkdownReport {
    /// Evidence rows of a physical restore's WAL (none for pg_dump backups).
    static func walRows(_ w: DrillReport.WAL) -> String {
        var md = "| WAL archive | \(escape(w.location)) |\n"
        md += "| Recovery target | \(escape(w.target))\(w.targetTime.map { " (\(RFC3339.format($0, fractional: true)))" } ?? "") |\n"
        if let s = w.startSegment { md += "| Backup start segment | \(s) |\n" }
        md += "| Backup verified | \(w.verifiedWith.map { escape($0) } ?? "**no**") |\n"
        if let e = w.backupEndAt { md += "| Backup end | \(RFC3339.format(e)) (\(w.backupEndSource ?? "unknown")) |\n" }
        if let n = w.newestSegment {
            md += "| Newest archived segment | \(n)\(w.newestSegmentAt.map { " (\(RFC3339.format($0)))" } ?? "") |\n"
        }
        if let gap = w.firstMissingSegment { md += "| First missing segment | **\(gap)** |\n" }
        md += "| WAL fetched | \(w.segmentsFetched) segment\(w.segmentsFetched == 1 ? "" : "s"), \(w.bytesFetched) bytes |\n"
        if let lsn = w.replayedTo { md += "| Replayed to | \(lsn)\(w.timeline.map { ", now on timeline \($0)" } ?? "") |\n" }
        return md
    }
}
