import Foundation

/// The runner's own resource use (RUSAGE_SELF: this process only, not the scratch server or the restore tools).
struct RunnerStats {
    var userSeconds: Double
    var systemSeconds: Double
    var maxRSSKiB: Int

    static func current() -> RunnerStats {
        var u = rusage()
        getrusage(RUSAGE_SELF.rawValue, &u)
        return RunnerStats(userSeconds: Double(u.ru_utime.tv_sec) + Double(u.ru_utime.tv_usec) / 1e6,
                           systemSeconds: Double(u.ru_stime.tv_sec) + Double(u.ru_stime.tv_usec) / 1e6,
                           maxRSSKiB: Int(u.ru_maxrss))
    }

    /// `drill-stats: cpu_user_s=0.41 cpu_sys_s=0.12 max_rss_kib=24576`: one line, easy for a benchmark to parse.
    var line: String {
        String(format: "drill-stats: cpu_user_s=%.3f cpu_sys_s=%.3f max_rss_kib=%d", userSeconds, systemSeconds, maxRSSKiB)
    }
}
