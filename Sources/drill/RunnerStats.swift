import Foundation
import DrillCore

/// The runner's own resource use: CPU from RUSAGE_SELF (this process only, not the scratch server or the restore
/// tools) and peak memory from /proc/self/status `VmHWM`. Not `ru_maxrss`: Linux carries it over from the image before
/// `execve`, so a drill started by a large parent (a Python benchmark holding a 300 MiB upload in memory) would report
/// the parent's peak, not its own.
struct RunnerStats {
    var userSeconds: Double
    var systemSeconds: Double
    var maxRSSKiB: Int

    static func current() -> RunnerStats {
        var u = rusage()
        getrusage(RUSAGE_SELF.rawValue, &u)
        return RunnerStats(userSeconds: Double(u.ru_utime.tv_sec) + Double(u.ru_utime.tv_usec) / 1e6,
                           systemSeconds: Double(u.ru_stime.tv_sec) + Double(u.ru_stime.tv_usec) / 1e6,
                           maxRSSKiB: procValue("VmHWM") ?? Int(u.ru_maxrss))
    }

    /// `drill-stats: cpu_user_s=0.41 cpu_sys_s=0.12 max_rss_kib=24576 …`: one line, easy for a benchmark to parse, with
    /// the current memory split from /proc (anonymous, file-backed, shared) to tell what the peak was made of.
    var line: String {
        String(format: "drill-stats: cpu_user_s=%.3f cpu_sys_s=%.3f max_rss_kib=%d", userSeconds, systemSeconds, maxRSSKiB)
            + Self.procMemory()
    }

    /// A `kB` value of /proc/self/status.
    static func procValue(_ key: String) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(key + ":") {
            return Int(line.dropFirst(key.count + 1).trimmingCharacters(in: .whitespaces).split(separator: " ").first ?? "")
        }
        return nil
    }

    static func procMemory() -> String {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return "" }
        let wanted = ["VmRSS": "rss_kib", "RssAnon": "rss_anon_kib", "RssFile": "rss_file_kib",
                      "RssShmem": "rss_shmem_kib", "Threads": "threads"]
        var out = ""
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, let key = wanted[String(parts[0])],
                  let value = parts[1].trimmingCharacters(in: .whitespaces).split(separator: " ").first else { continue }
            out += " \(key)=\(value)"
        }
        return out
    }
}

/// Passes progress on to the terminal and notes the runner's cumulative CPU seconds at the end of each phase, so
/// `--stats` can say where the runner's own CPU went (fetch and provision overlap: read them together).
final class PhaseCPUObserver: PhaseObserver, @unchecked Sendable {
    private let inner: any PhaseObserver
    private let lock = NSLock()
    private var marks: [(String, Double)] = []

    init(_ inner: any PhaseObserver) { self.inner = inner }

    /// ` cpu_at=fetch:0.412,provision:0.420,…`: cumulative user+system seconds when each phase ended.
    var line: String {
        let m = lock.withLock { marks }
        return m.isEmpty ? "" : " cpu_at=" + m.map { "\($0.0):" + String(format: "%.3f", $0.1) }.joined(separator: ",")
    }

    func drillStarted(_ drill: String, tier: String) { inner.drillStarted(drill, tier: tier) }
    func phaseStarted(_ phase: PhaseName, detail: String) { inner.phaseStarted(phase, detail: detail) }
    func phaseFinished(_ phase: PhaseName, seconds: Double, ok: Bool, detail: String) {
        let s = RunnerStats.current()
        lock.withLock { marks.append((phase.rawValue, s.userSeconds + s.systemSeconds)) }
        inner.phaseFinished(phase, seconds: seconds, ok: ok, detail: detail)
    }
    func transfer(done: Int64, total: Int64?) { inner.transfer(done: done, total: total) }
    func note(_ text: String) { inner.note(text) }
}
