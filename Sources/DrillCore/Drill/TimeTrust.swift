import Foundation

/// The findings of times a drill cannot trust: a backup's time later than the drill's start (a skewed clock on the
/// backup host, a dump made under a wrong `TZ`), which would otherwise give a negative RPO or keep a backup "the latest"
/// for good.
enum TimeTrust {
    static func futureRecoveryPoint(_ rp: Date, source: String?, drillStart: Date, readAt: Date? = nil) -> String {
        if let readAt, readAt > drillStart {
            return "The backup's time (\(source ?? "recovery point") \(RFC3339.format(rp))) is \(formatSeconds(rp.timeIntervalSince(readAt))) "
                + "in the future of the moment drill read the archive (\(RFC3339.format(readAt))): clock skew on the backup host or a wrong TZ."
        }
        return "The backup's time (\(source ?? "recovery point") \(RFC3339.format(rp))) is \(formatSeconds(rp.timeIntervalSince(drillStart))) "
            + "in the future of the drill's start (\(RFC3339.format(drillStart))): clock skew on the backup host or a wrong TZ."
    }

    static func futureFileTime(_ modified: Date, drillStart: Date) -> String {
        "The backup's file time (\(RFC3339.format(modified))) is \(formatSeconds(modified.timeIntervalSince(drillStart))) in the future "
            + "of the drill's start: clock skew on the backup host or a wrong TZ. Backups are chosen by file time, so this one "
            + "stays \"the latest\" until its time is corrected."
    }
}
