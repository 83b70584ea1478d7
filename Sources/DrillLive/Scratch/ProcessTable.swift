import Foundation

/// What `/proc` says about processes: who runs them, when they started (to tell a pid from its reuse), and whether
/// they are still alive. No name matching anywhere: processes are found by account, cgroup or pid and start time.
public enum ProcessTable {
    /// One process as `/proc/<pid>/stat` and `/proc/<pid>/status` describe it.
    public struct Entry: Sendable, Equatable {
        public var pid: Int32
        public var parent: Int32
        /// `R`, `S`, `D`, `Z` (zombie: dead, waiting for its parent), …
        public var state: Character
        /// Clock ticks after boot (field 22 of `/proc/<pid>/stat`): with the pid, a process's identity.
        public var startTicks: UInt64
        /// Real, effective, saved and filesystem user ids.
        public var uids: [UInt32]
        public var isZombie: Bool { state == "Z" || state == "X" }
    }

    /// The process `pid`, or nil when there is none.
    public static func entry(_ pid: Int32) -> Entry? {
        guard let stat = read("/proc/\(pid)/stat"), let close = stat.lastIndex(of: ")") else { return nil }
        // The command name (in parentheses) may hold spaces: the fields are counted after its closing parenthesis.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 19, let state = fields[0].first, let parent = Int32(fields[1]), let start = UInt64(fields[19]) else {
            return nil
        }
        var uids: [UInt32] = []
        if let status = read("/proc/\(pid)/status") {
            for line in status.split(separator: "\n") where line.hasPrefix("Uid:") {
                uids = line.dropFirst(4).split(whereSeparator: { $0 == "\t" || $0 == " " }).compactMap { UInt32($0) }
            }
        }
        return Entry(pid: pid, parent: parent, state: state, startTicks: start, uids: uids)
    }

    /// Every process on the machine.
    public static func all() -> [Entry] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { Int32($0).flatMap(entry) }
    }

    /// Live (not zombie) processes with `uid` as any of their user ids: one read of `/proc/<pid>/status` per process,
    /// and the full entry only for those that match.
    public static func live(uid: uid_t) -> [Entry] {
        let wanted = String(uid)
        return ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { name -> Entry? in
            guard let pid = Int32(name), let status = read("/proc/\(name)/status") else { return nil }
            var matches = false
            for line in status.split(separator: "\n") {
                if line.hasPrefix("State:") && (line.contains("Z (zombie)") || line.contains("X (dead)")) { return nil }
                if line.hasPrefix("Uid:") {
                    matches = line.dropFirst(4).split(whereSeparator: { $0 == "\t" || $0 == " " }).contains { $0 == wanted }
                    break
                }
            }
            guard matches, let e = entry(pid), !e.isZombie else { return nil }
            return e
        }
    }

    /// The start time of `pid`, nil when it does not exist.
    public static func startTicks(of pid: Int32) -> UInt64? { entry(pid)?.startTicks }

    /// Whether `pid` is alive and is still the process that started at `startTicks` (not a reuse of its number).
    public static func isAlive(pid: Int32, startTicks: UInt64) -> Bool {
        guard let e = entry(pid) else { return false }
        return !e.isZombie && e.startTicks == startTicks
    }

    /// Live descendants of `pid` (children, their children, …), found through parent pids.
    public static func descendants(of pid: Int32) -> [Entry] {
        let table = all().filter { !$0.isZombie }
        var out: [Entry] = []
        var frontier: Set<Int32> = [pid]
        while !frontier.isEmpty {
            let next = table.filter { frontier.contains($0.parent) }
            out += next
            frontier = Set(next.map(\.pid))
        }
        return out
    }

    /// This boot's identity: a pid and start time recorded before a reboot mean nothing after it.
    public static var bootID: String {
        (read("/proc/sys/kernel/random/boot_id") ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The start time of this process.
    public static let selfStartTicks: UInt64 = startTicks(of: getpid()) ?? 0

    /// Clock ticks per second (for turning start ticks into a time).
    static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))

    /// The wall-clock time a process started at `startTicks`.
    public static func startDate(ticks: UInt64) -> Date? {
        guard let uptime = read("/proc/uptime")?.split(separator: " ").first.flatMap({ Double($0) }) else { return nil }
        let bootedAt = Date().addingTimeInterval(-uptime)
        return bootedAt.addingTimeInterval(Double(ticks) / ticksPerSecond)
    }

    static func read(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var data = [UInt8]()
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buf.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, 4096) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            data += buf[0..<n]
        }
        return String(decoding: data, as: UTF8.self)
    }
}
