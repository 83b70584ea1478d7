import DrillCore
import Foundation

/// Reports, while a restore tool runs, how much of the backup it has consumed: the restore phase's progress (percent,
/// bytes, ETA on the terminal; a timestamped line every 30 s without one). Samples once a second until `stop`;
/// `finished` reports the backup as wholly consumed once the tool succeeded.
final class ReadWatcher: Sendable {
    private let task: Task<Void, Never>
    private let total: Int64?
    private let progress: TransferProgress

    /// Calls `measure` now and then every `interval`, and reports its figure: below `total` until `finished` (the
    /// tool may have read everything and still be building indexes; its reads of the server's answers add a little).
    init(total: Int64?, progress: @escaping TransferProgress, interval: Duration = .seconds(1),
         measure: @escaping @Sendable () -> Int64?) {
        self.total = total
        self.progress = progress
        task = Task {
            while !Task.isCancelled {
                if let done = measure() { progress(total.map { min(done, max(0, $0 - 1)) } ?? done, total) }
                try? await Task.sleep(for: interval)
            }
        }
    }

    /// Stops sampling (before the descriptor or process measured goes away).
    func stop() async {
        task.cancel()
        await task.value
    }

    /// The tool succeeded: the whole backup was consumed.
    func finished() {
        if let total { progress(total, total) }
    }

    /// What the restore tool started as `root` and its children (`pg_restore -j N`'s workers) have read so far:
    /// `rchar` of `/proc/<pid>/io`, summed over the processes, each kept at its last count once it exits.
    static func processReads(root: Int32, total: Int64?) -> @Sendable () -> Int64? {
        let tally = LockedTally(ReadTally(total: total))
        return {
            var sample: [ReadTally.ProcessKey: Int64] = [:]
            for entry in ([ProcessTable.entry(root)].compactMap { $0 } + ProcessTable.descendants(of: root)) where !entry.isZombie {
                if let bytes = readCharacters(entry.pid) {
                    sample[ReadTally.ProcessKey(pid: entry.pid, startTicks: entry.startTicks)] = bytes
                }
            }
            return tally.record(sample)
        }
    }

    /// How far drill's own descriptor `fd` has read a file (its offset).
    static func position(of fd: Int32) -> @Sendable () -> Int64? {
        {
            let at = lseek(fd, 0, SEEK_CUR)
            return at < 0 ? nil : Int64(at)
        }
    }

    /// `rchar` of `/proc/<pid>/io`: bytes the process has read through read() and friends.
    static func readCharacters(_ pid: Int32) -> Int64? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/io", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("rchar:") {
            return Int64(line.dropFirst("rchar:".count).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }

    /// The size of a backup on disk: a file's, or the sum of a folder's files (a directory-format dump).
    static func size(of path: String) -> Int64? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        if st.st_mode & S_IFMT != S_IFDIR { return Int64(st.st_size) }
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else { return nil }
        return names.reduce(Int64(0)) { sum, name in
            var f = stat()
            let ok = stat((path as NSString).appendingPathComponent(name), &f) == 0 && f.st_mode & S_IFMT == S_IFREG
            return sum + (ok ? Int64(f.st_size) : 0)
        }
    }
}

/// A `ReadTally` behind a lock, for the sampling closure.
private final class LockedTally: @unchecked Sendable {
    private let lock = NSLock()
    private var tally: ReadTally

    init(_ tally: ReadTally) { self.tally = tally }

    func record(_ sample: [ReadTally.ProcessKey: Int64]) -> Int64 { lock.withLock { tally.record(sample) } }
}
