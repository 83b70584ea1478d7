import Foundation

/// A cgroup (v2) holding one scratch cluster's processes. Nothing started inside can leave it without privileges, so
/// `kill()` (`cgroup.kill`: one atomic SIGKILL of every member, forks included) reaches whatever a restore started,
/// however it detached. It is created under drill's own cgroup, so a service manager that stops drill's cgroup (a
/// systemd unit, a container) stops the scratch cluster with it. Needs root and a writable cgroup2 mount; without
/// them there is no cgroup and the dedicated account alone finds the processes.
public struct ScratchCgroup: Sendable, Equatable {
    public let path: String

    public init(path: String) { self.path = path }

    /// A new cgroup named `drill-<name>-<random>`, or nil when cgroups v2 cannot be used here.
    public static func create(name: String) -> ScratchCgroup? {
        guard geteuid() == 0, let mount = mountPoint else { return nil }
        let leaf = "drill-\(String(name.prefix(24)).map { $0.isLetter || $0.isNumber ? $0 : "-" }.reduce("") { $0 + String($1) })-\(ScratchNaming.randomSuffix())"
        var parents: [String] = []
        if let own = ownPath { parents.append(own == "/" ? mount : mount + own) }
        parents.append((mount as NSString).appendingPathComponent("drill"))
        for parent in parents {
            if parent.hasSuffix("/drill") { mkdir(parent, 0o755) }
            let path = (parent as NSString).appendingPathComponent(leaf)
            if mkdir(path, 0o755) == 0 {
                if access((path as NSString).appendingPathComponent("cgroup.procs"), W_OK) == 0 { return ScratchCgroup(path: path) }
                rmdir(path)
            }
        }
        return nil
    }

    /// The members' pids (zombies have already left).
    public func processes() -> [Int32] {
        (ProcessTable.read((path as NSString).appendingPathComponent("cgroup.procs")) ?? "")
            .split(separator: "\n").compactMap { Int32($0) }
    }

    public var exists: Bool { access(path, F_OK) == 0 }

    /// SIGKILL to every member: `cgroup.kill` (Linux 5.14+), else each listed member.
    public func kill() {
        if !write("1", to: "cgroup.kill") {
            for pid in processes() { Glibc.kill(pid, SIGKILL) }
        }
    }

    /// Removes the (empty) cgroup. True when it is gone.
    @discardableResult
    public func remove() -> Bool {
        rmdir(path) == 0 || errno == ENOENT
    }

    /// Removes the cgroup, waiting up to `seconds` for it to empty: killed processes stay attached until their parent
    /// (for orphans, init) reaps them, which can take a while.
    @discardableResult
    public func remove(within seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while !remove() {
            if Date() > deadline { return false }
            usleep(50_000)
        }
        return true
    }

    /// Removes empty `drill-…` cgroups older than `age` seconds that no live drill uses any more (a drill killed while
    /// its processes were still being reaped left them). Returns how many went.
    @discardableResult
    public static func removeStale(olderThan age: Double = 600) -> Int {
        guard geteuid() == 0, let mount = mountPoint else { return 0 }
        var parents = [(mount as NSString).appendingPathComponent("drill")]
        if let own = ownPath { parents.append(own == "/" ? mount : mount + own) }
        var removed = 0
        for parent in Set(parents) {
            for name in ((try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? []) where name.hasPrefix("drill-") {
                let path = (parent as NSString).appendingPathComponent(name)
                var st = stat()
                guard lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR,
                      Date().timeIntervalSince1970 - Double(st.st_ctim.tv_sec) > age else { continue }
                let group = ScratchCgroup(path: path)
                if group.processes().isEmpty, group.remove() { removed += 1 }
            }
        }
        return removed
    }

    private func write(_ text: String, to file: String) -> Bool {
        let fd = open((path as NSString).appendingPathComponent(file), O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return text.withCString { Glibc.write(fd, $0, strlen($0)) } > 0
    }

    /// Where cgroup2 is mounted (`/sys/fs/cgroup`, or `/sys/fs/cgroup/unified` in hybrid mode).
    static var mountPoint: String? {
        for line in (ProcessTable.read("/proc/self/mountinfo") ?? "").split(separator: "\n") {
            let halves = line.components(separatedBy: " - ")
            guard halves.count == 2, halves[1].hasPrefix("cgroup2 ") else { continue }
            let fields = halves[0].split(separator: " ")
            if fields.count > 4 { return String(fields[4]).replacingOccurrences(of: "\\040", with: " ") }
        }
        return nil
    }

    /// drill's own cgroup v2 path (`0::/…` in `/proc/self/cgroup`).
    static var ownPath: String? {
        for line in (ProcessTable.read("/proc/self/cgroup") ?? "").split(separator: "\n") where line.hasPrefix("0::") {
            return String(line.dropFirst(3))
        }
        return nil
    }
}
