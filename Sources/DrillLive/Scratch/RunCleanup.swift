import DrillCore
import Foundation
import Logging

/// What the cleanup removed of one dead run.
public struct CleanedRun: Sendable, Equatable {
    public var owner: RunOwner
    public var drills: [String]
    /// Folders and files deleted.
    public var removedPaths: [String]
    /// Bytes they held.
    public var bytes: Int64
    public var clusters: Int
    public var processesKilled: Int
    /// What could not be removed, and why.
    public var problems: [String]
    /// Private GnuPG homes removed (each after its gpg-agent was stopped).
    public var gnupgHomes: [String] = []

    /// One line for people: what was removed and from which run.
    public var summary: String {
        var parts: [String] = []
        if clusters > 0 { parts.append("\(clusters) scratch cluster\(clusters == 1 ? "" : "s")") }
        if !gnupgHomes.isEmpty { parts.append("\(gnupgHomes.count) private GnuPG home\(gnupgHomes.count == 1 ? "" : "s") (gpg-agent stopped)") }
        let others = removedPaths.count - clusters - gnupgHomes.count
        if others > 0 { parts.append("\(others) other folder\(others == 1 ? "" : "s") or file\(others == 1 ? "" : "s")") }
        if processesKilled > 0 { parts.append("\(processesKilled) process\(processesKilled == 1 ? "" : "es") killed") }
        let what = parts.isEmpty ? "nothing was left" : parts.joined(separator: ", ") + ", \(bytes) bytes"
        let drills = drills.isEmpty ? "" : " (drill \(drills.joined(separator: ", ")))"
        var line = "run pid \(owner.pid) started \(RFC3339.format(owner.startedAt))\(drills) died without a report: removed \(what)"
        if !removedPaths.isEmpty { line += ": " + removedPaths.joined(separator: ", ") }
        if !problems.isEmpty { line += "; not removed: " + problems.joined(separator: "; ") }
        return line
    }
}

/// The notice a dead run leaves for the next report of its drill.
public struct DeadRunNotice: Codable, Sendable, Equatable {
    public var drill: String
    public var pid: Int32
    public var startedAt: Date
    public var bytes: Int64
    public var clusters: Int
    public var processesKilled: Int
    public var cleanedAt: Date
    /// The private GnuPG homes removed (absent in notices of older versions).
    public var gnupgHomes: [String]?

    public init(drill: String, pid: Int32, startedAt: Date, bytes: Int64, clusters: Int, processesKilled: Int, cleanedAt: Date,
                gnupgHomes: [String]? = nil) {
        self.drill = drill
        self.pid = pid
        self.startedAt = startedAt
        self.bytes = bytes
        self.clusters = clusters
        self.processesKilled = processesKilled
        self.cleanedAt = cleanedAt
        self.gnupgHomes = gnupgHomes
    }

    /// "The previous run, pid N started T, died without a report; its scratch cluster and N bytes of restored data
    /// were removed."
    public var finding: String {
        let homes = gnupgHomes ?? []
        var what = clusters > 0
            ? "its scratch cluster\(clusters == 1 ? "" : "s") and \(bytes) bytes of restored data were removed"
            : homes.isEmpty ? "what it had staged (\(bytes) bytes) was removed" : "what it had left (\(bytes) bytes) was removed"
        if !homes.isEmpty {
            what += "; its private GnuPG home\(homes.count == 1 ? "" : "s") (the copy of backup.decrypt.gpg_homedir) "
                + "\(homes.joined(separator: ", ")) \(homes.count == 1 ? "was" : "were") deleted after its gpg-agent was stopped (gpgconf --kill all)"
        }
        let killed = processesKilled > 0 ? " (\(processesKilled) process\(processesKilled == 1 ? "" : "es") still running were killed)" : ""
        return "The previous run, pid \(pid) started \(RFC3339.format(startedAt)), died without a report; \(what)\(killed)."
    }
}

/// Removes what dead runs left under a scratch root (see `RunRegistry`), and what a dead run left running as one of
/// the pool's accounts. Every command that provisions a scratch cluster runs it first (`EmbeddedCluster.create`), and
/// `drill cleanup` runs it on demand.
public enum RunCleanup {
    /// Cleans every dead run recorded under `scratchRoot`. Runs of live processes are never touched.
    @discardableResult
    public static func cleanDeadRuns(scratchRoot: String, now: Date = Date(), logger: Logger) -> [CleanedRun] {
        let root = (scratchRoot as NSString).standardizingPath
        let dir = RunRegistry.directory(under: root)
        ScratchCgroup.removeStale()
        guard access(dir, F_OK) == 0 else { return [] }
        guard RegistryFolder.isPrivate(dir) else {
            logger.warning("\(dir) is not a private folder of this user: not trusting its records")
            return []
        }
        // One cleaner at a time (two drills starting together would otherwise both remove the same run): a lock on
        // the folder itself, which leaves no file behind.
        let lockFD = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)
        guard lockFD >= 0 else { return [] }
        defer { close(lockFD) }
        flock(lockFD, LOCK_EX)
        var cleaned: [CleanedRun] = []
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }
        for name in names.sorted() {
            let path = (dir as NSString).appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: path),
                  let record = try? RunRecord.decoder.decode(RunRecord.self, from: data) else {
                // Records are replaced atomically, so an unreadable one was not written by this drill: left alone.
                logger.warning("cannot read the run record \(path); leaving it")
                continue
            }
            if record.owner.isAlive || record.owner == RunOwner.current { continue }
            let result = clean(record, scratchRoot: root, logger: logger)
            leaveNotices(for: result, in: dir, now: now)
            unlink(path)
            logger.notice("removed what a dead drill left", metadata: ["run": "\(result.summary)"])
            cleaned.append(result)
        }
        rmdir(dir)  // only when nothing is left in it
        return cleaned
    }

    /// Kills what dead runs left running as the pool's idle accounts (those no live cluster leases). Returns the
    /// accounts swept with the number of processes killed.
    public static func sweepIdleAccounts(logger: Logger) -> [(user: String, killed: Int)] {
        guard geteuid() == 0 else { return [] }
        var out: [(String, Int)] = []
        for (slot, account) in ScratchAccounts.existingAccounts() {
            guard !ProcessTable.live(uid: account.uid).isEmpty else { continue }
            if let lease = try? ScratchAccounts.tryLease(slot: slot, logger: logger) {
                if lease.sweptAtLease > 0 { out.append((account.user, lease.sweptAtLease)) }
                lease.release()
            }
        }
        return out
    }

    /// The notices dead runs of `drill` left, removed as they are read (each goes into one report).
    public static func takeNotices(scratchRoot: String, drill: String) -> [DeadRunNotice] {
        let path = noticePath(RunRegistry.directory(under: (scratchRoot as NSString).standardizingPath), drill: drill)
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        unlink(path)
        let died = (path as NSString).deletingLastPathComponent
        if rmdir(died) == 0 { rmdir((died as NSString).deletingLastPathComponent) }
        return (try? RunRecord.decoder.decode([DeadRunNotice].self, from: data)) ?? []
    }

    /// The notices not yet taken, for every drill.
    public static func pendingNotices(scratchRoot: String) -> [DeadRunNotice] {
        let dir = (RunRegistry.directory(under: (scratchRoot as NSString).standardizingPath) as NSString).appendingPathComponent("died")
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted().flatMap { name -> [DeadRunNotice] in
            guard let data = FileManager.default.contents(atPath: (dir as NSString).appendingPathComponent(name)) else { return [] }
            return (try? RunRecord.decoder.decode([DeadRunNotice].self, from: data)) ?? []
        }
    }

    // MARK: - Removing one run

    static func clean(_ record: RunRecord, scratchRoot: String, logger: Logger) -> CleanedRun {
        var result = CleanedRun(owner: record.owner, drills: Array(Set(record.items.compactMap(\.drill))).sorted(),
                                removedPaths: [], bytes: 0, clusters: 0, processesKilled: 0, problems: [])
        for item in record.items {
            // Processes first (a server still writing into its folder would defeat the removal).
            for p in item.processes where ProcessTable.isAlive(pid: p.pid, startTicks: p.startTicks) {
                for child in ProcessTable.descendants(of: p.pid) { kill(child.pid, SIGKILL) }
                kill(p.pid, SIGKILL)
                result.processesKilled += 1
            }
            if let path = item.cgroup, isDrillCgroup(path) {
                let cgroup = ScratchCgroup(path: path)
                if cgroup.exists {
                    let members = cgroup.processes().count
                    let deadline = Date().addingTimeInterval(5)
                    while !cgroup.processes().isEmpty && Date() < deadline {
                        cgroup.kill()
                        usleep(20_000)
                    }
                    result.processesKilled += members
                    if !cgroup.remove(within: 10) { result.problems.append("cgroup \(path) (still populated)") }
                }
            }
            if item.kind == .gnupg {
                // Its gpg-agent, a daemon, outlived drill: stopped before the folder (its sockets, the key copy) goes.
                for path in item.paths where isRemovable(path, scratchRoot: scratchRoot) {
                    result.processesKilled += PrivateGnuPGHome.stopAgents(home: (path as NSString).standardizingPath)
                    if access(path, F_OK) == 0 { result.gnupgHomes.append(path) }
                }
            }
            if let a = item.account, a.dedicated, let slot = a.slot, ScratchAccounts.isPoolAccount(a.user) {
                // Leasing the account kills whatever still runs as it; a busy lease means its processes are being (or
                // were already) killed by its watchdog or the run that leased it since.
                if let lease = try? ScratchAccounts.tryLease(slot: slot, logger: logger) {
                    result.processesKilled += lease.sweptAtLease
                    lease.release()
                }
            }
            for path in item.paths {
                guard isRemovable(path, scratchRoot: scratchRoot) else {
                    result.problems.append("\(path) (not a drill folder under \(scratchRoot))")
                    continue
                }
                guard access(path, F_OK) == 0 || isSymlink(path) else { continue }
                let bytes = size(of: path)
                do {
                    try FileManager.default.removeItem(atPath: path)
                    result.removedPaths.append(path)
                    result.bytes += bytes
                } catch {
                    result.problems.append("\(path) (\(error.localizedDescription))")
                }
            }
            if item.kind == .cluster { result.clusters += 1 }
        }
        return result
    }

    /// Only drill's own folders: named `drill-…`, directly under the scratch root (or `/tmp/drill-s-…`, the socket
    /// folder of a cluster whose root path is too long for a socket path), never through `..`.
    static func isRemovable(_ path: String, scratchRoot: String) -> Bool {
        guard path.hasPrefix("/"), !path.split(separator: "/").contains("..") else { return false }
        let standard = (path as NSString).standardizingPath
        let name = (standard as NSString).lastPathComponent
        let parent = (standard as NSString).deletingLastPathComponent
        if parent == scratchRoot, name.hasPrefix("drill-") { return true }
        if parent == "/tmp", name.hasPrefix("drill-s-") || name.hasPrefix(PrivateGnuPGHome.prefix) { return true }
        // A file inside a staging folder of the scratch root.
        let grand = (parent as NSString).deletingLastPathComponent
        return grand == scratchRoot && (parent as NSString).lastPathComponent.hasPrefix("drill-stage-")
    }

    static func isDrillCgroup(_ path: String) -> Bool {
        guard let mount = ScratchCgroup.mountPoint else { return false }
        return path.hasPrefix(mount + "/") && (path as NSString).lastPathComponent.hasPrefix("drill-")
            && !path.split(separator: "/").contains("..")
    }

    static func isSymlink(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFLNK
    }

    /// Bytes of the regular files under `path` (symlinks not followed).
    static func size(of path: String) -> Int64 {
        var st = stat()
        guard lstat(path, &st) == 0 else { return 0 }
        switch st.st_mode & S_IFMT {
        case S_IFREG: return Int64(st.st_size)
        case S_IFDIR:
            return ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [])
                .reduce(0) { $0 + size(of: (path as NSString).appendingPathComponent($1)) }
        default: return 0
        }
    }

    // MARK: - Notices

    static func noticePath(_ dir: String, drill: String) -> String {
        let safe = String(drill.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" })
        return ((dir as NSString).appendingPathComponent("died") as NSString).appendingPathComponent("\(safe).json")
    }

    static func leaveNotices(for run: CleanedRun, in dir: String, now: Date) {
        guard run.clusters > 0 || run.bytes > 0 || run.processesKilled > 0 || !run.gnupgHomes.isEmpty else { return }
        let died = (dir as NSString).appendingPathComponent("died")
        guard RegistryFolder.ensure(died) else { return }
        for drill in run.drills {
            let path = noticePath(dir, drill: drill)
            var notices = (FileManager.default.contents(atPath: path)).flatMap { try? RunRecord.decoder.decode([DeadRunNotice].self, from: $0) } ?? []
            notices.append(DeadRunNotice(drill: drill, pid: run.owner.pid, startedAt: run.owner.startedAt, bytes: run.bytes,
                                         clusters: run.clusters, processesKilled: run.processesKilled, cleanedAt: now,
                                         gnupgHomes: run.gnupgHomes.isEmpty ? nil : run.gnupgHomes))
            if let data = try? RunRecord.encoder.encode(notices) { try? RegistryFolder.write(data, to: path) }
        }
    }
}

/// The runner's janitor (`RunJanitor`) over the run registry of a scratch root: cleans dead runs when a drill starts,
/// turns their notices into findings of the same drill's next report, and records its staging folder.
public struct LiveRunJanitor: RunJanitor {
    public var scratchRoot: String
    public var logger: Logger

    public init(scratchRoot: String, logger: Logger) {
        self.scratchRoot = scratchRoot
        self.logger = logger
    }

    public func beforeDrill(_ drill: String) async -> [String] {
        let (root, logger) = (scratchRoot, self.logger)
        return await OffPool.run {
            RunCleanup.cleanDeadRuns(scratchRoot: root, logger: logger)
            return RunCleanup.takeNotices(scratchRoot: root, drill: drill).map(\.finding)
        }
    }

    public func track(_ path: String, drill: String) -> String {
        RunRegistry.at(scratchRoot).add(.staged(path, drill: drill))
    }

    public func untrack(_ token: String) { RunRegistry.at(scratchRoot).remove(token) }
}
