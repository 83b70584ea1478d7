import Foundation
import Logging

/// The accounts scratch servers run as when drill is root: a pool of dedicated system users `drill-scratch-0`,
/// `drill-scratch-1`, … that own nothing (no home, no login shell, their own group), created when first needed.
/// Each cluster leases one for its lifetime (an exclusive `flock` on `/run/drill/scratch-N.lock`), so two drills
/// running at once never share an account: one cluster's server cannot enter another's 0700 folder, and killing
/// every process of the account at teardown cannot touch anything else. Never `postgres`, which owns production's
/// archive and sockets.
///
/// `DRILL_SCRATCH_USER` names one account to use instead. drill cannot know that account owns nothing, so it is not
/// treated as dedicated (its processes are not swept) unless drill created it (the pool's comment).
public enum ScratchAccounts {
    public static let namePrefix = "drill-scratch-"
    /// The GECOS comment of the pool's accounts: how drill recognises an account as its own.
    public static let comment = "drill scratch server (owns nothing)"
    public static let poolSize = 64

    /// Leases an account, or returns nil when drill is not root (the server then runs as drill's own user).
    public static func lease(environment: [String: String] = ProcessInfo.processInfo.environment,
                             logger: Logger) throws -> ScratchLease? {
        guard geteuid() == 0 else { return nil }
        if let name = environment["DRILL_SCRATCH_USER"], !name.isEmpty {
            guard var account = RunAs.named(name) else {
                throw DrillLiveError.io("DRILL_SCRATCH_USER=\(name) is not a user on this machine")
            }
            guard account.uid != 0 else { throw DrillLiveError.io("DRILL_SCRATCH_USER=\(name) is root: the scratch server must run unprivileged") }
            account.dedicated = isPoolAccount(name)
            // A pool account named by hand is leased like any other; another account is shared, and not swept.
            if account.dedicated, let slot = Int(name.dropFirst(namePrefix.count)), let lease = try tryLease(slot: slot, logger: logger) {
                return lease
            }
            return ScratchLease(account: account, slot: nil, lockFD: -1)
        }
        let dir = try lockDirectory()
        for slot in 0..<poolSize {
            if let lease = try tryLease(slot: slot, directory: dir, logger: logger) { return lease }
        }
        throw DrillLiveError.io("all \(poolSize) scratch accounts (\(namePrefix)0…\(poolSize - 1)) are in use")
    }

    /// The slot's account if its lock is free and no kept cluster holds it; creates the account when missing and
    /// kills whatever a dead run left running under it.
    static func tryLease(slot: Int, directory: String? = nil, logger: Logger) throws -> ScratchLease? {
        let dir = try directory ?? lockDirectory()
        let lockPath = (dir as NSString).appendingPathComponent("scratch-\(slot).lock")
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw DrillLiveError.io("cannot open \(lockPath): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            return nil
        }
        let kept = keptMarker(slot: slot, directory: dir)
        if let text = ProcessTable.read(kept) {
            let parts = text.split(separator: " ").compactMap { UInt64($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            if parts.count == 2, ProcessTable.isAlive(pid: Int32(parts[0]), startTicks: parts[1]) {
                close(fd)
                return nil  // a cluster kept with --keep still runs as this account
            }
            unlink(kept)
        }
        let name = "\(namePrefix)\(slot)"
        do {
            var account = try ensureAccount(name, directory: dir, logger: logger)
            account.dedicated = true
            let left = ScratchSweep.killAll(account)
            if left.killed > 0 {
                logger.notice("killed processes a dead drill left running as \(name)", metadata: ["count": "\(left.killed)"])
            }
            guard left.remaining.isEmpty else {
                close(fd)
                logger.warning("processes of \(name) survive SIGKILL; not using that account", metadata: ["pids": "\(left.remaining)"])
                return nil
            }
            return ScratchLease(account: account, slot: slot, lockFD: fd, keptMarker: kept, sweptAtLease: left.killed)
        } catch {
            close(fd)
            throw error
        }
    }

    /// Whether `name` is an account of drill's pool (named so, and carrying the pool's comment).
    public static func isPoolAccount(_ name: String) -> Bool {
        guard name.hasPrefix(namePrefix), let a = UserDatabase.account(named: name) else { return false }
        return a.comment == comment && a.uid != 0
    }

    /// The pool's accounts that exist on this machine, with their slot.
    public static func existingAccounts() -> [(slot: Int, account: RunAs)] {
        (0..<poolSize).compactMap { slot in
            let name = "\(namePrefix)\(slot)"
            guard isPoolAccount(name), var a = RunAs.named(name) else { return nil }
            a.dedicated = true
            return (slot, a)
        }
    }

    static func ensureAccount(_ name: String, directory: String, logger: Logger) throws -> RunAs {
        if let existing = RunAs.named(name) {
            guard isPoolAccount(name) else {
                throw DrillLiveError.io("the account \(name) exists but was not created by drill (its comment is not \"\(comment)\"): refusing to run scratch servers as it")
            }
            return existing
        }
        // useradd locks the user database itself, but two drills creating accounts at once make it fail: one at a time.
        let lock = open((directory as NSString).appendingPathComponent("useradd.lock"), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        if lock >= 0 { flock(lock, LOCK_EX) }
        defer { if lock >= 0 { close(lock) } }
        if let existing = RunAs.named(name), isPoolAccount(name) { return existing }
        let useradd = ["/usr/sbin/useradd", "/sbin/useradd"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let useradd else {
            throw DrillLiveError.io("cannot create the scratch account \(name): no useradd on this machine; create it, or set DRILL_SCRATCH_USER to an unprivileged account that owns nothing")
        }
        let shell = FileManager.default.isExecutableFile(atPath: "/usr/sbin/nologin") ? "/usr/sbin/nologin" : "/bin/false"
        let r = ChildProcess.runBlocking(ProcessSpec(
            executable: useradd,
            arguments: ["--system", "--no-create-home", "--home-dir", "/nonexistent", "--shell", shell, "--user-group",
                        "--comment", comment, name],
            inherit: .only(["PATH"])))
        guard r.succeeded, let account = RunAs.named(name) else {
            throw DrillLiveError.io("cannot create the scratch account \(name) (useradd: \(r.summary)): \(r.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        logger.notice("created the scratch account \(name)", metadata: ["uid": "\(account.uid)"])
        return account
    }

    /// `/run/drill`, a root-only folder for the pool's locks (it is cleared at boot, with the processes it guards).
    static func lockDirectory() throws -> String {
        for dir in ["/run/drill", "/var/lib/drill/locks"] {
            try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            var st = stat()
            if lstat(dir, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR, st.st_uid == 0, (st.st_mode & 0o022) == 0 { return dir }
        }
        throw DrillLiveError.io("cannot create a private lock folder for the scratch accounts (/run/drill)")
    }

    static func keptMarker(slot: Int, directory: String) -> String {
        (directory as NSString).appendingPathComponent("scratch-\(slot).kept")
    }
}

/// One account leased to one scratch cluster. The lease holds the slot's lock; `release()` (or drill's death) frees it.
/// The lock descriptor is also passed to the cluster's watchdog, so a dead drill's account stays taken until the
/// watchdog has killed everything that ran as it.
public final class ScratchLease: @unchecked Sendable {
    public let account: RunAs
    /// The pool slot, nil for a `DRILL_SCRATCH_USER` account that is not the pool's.
    public let slot: Int?
    private let lock = NSLock()
    private var fd: Int32
    private let keptMarker: String?
    /// How many processes a dead run had left running as the account, killed when it was leased.
    public let sweptAtLease: Int

    init(account: RunAs, slot: Int?, lockFD: Int32, keptMarker: String? = nil, sweptAtLease: Int = 0) {
        self.account = account
        self.slot = slot
        self.fd = lockFD
        self.keptMarker = keptMarker
        self.sweptAtLease = sweptAtLease
    }

    /// The lock's descriptor (-1 when there is none).
    var lockDescriptor: Int32 { lock.withLock { fd } }

    /// Frees the account for the next cluster.
    public func release() {
        lock.withLock {
            if fd >= 0 { close(fd) }
            fd = -1
        }
    }

    /// The cluster is kept running after drill exits (`--keep`): the account stays taken while its server runs.
    func keep(serverPID: Int32) {
        if let keptMarker, let start = ProcessTable.startTicks(of: serverPID) {
            try? AtomicFile.write(Data("\(serverPID) \(start)\n".utf8), to: keptMarker, mode: 0o600)
        }
        release()
    }

    deinit { release() }
}

/// Kills every process of a dedicated account: `kill(-1, SIGKILL)` run as that account, which the kernel applies to
/// all of its processes at once (forks cannot slip through), repeated until `/proc` shows none alive.
public enum ScratchSweep {
    public struct Outcome: Sendable, Equatable {
        public var killed: Int
        public var remaining: [Int32]
    }

    public static func killAll(_ account: RunAs, cgroup: ScratchCgroup? = nil, within seconds: Double = 5) -> Outcome {
        var killed = 0
        let deadline = Date().addingTimeInterval(seconds)
        var first = true
        while true {
            let live = account.dedicated ? ProcessTable.live(uid: account.uid).map(\.pid) : []
            let members = cgroup?.processes() ?? []
            let all = Set(live + members)
            if first { killed = all.count; first = false }
            if all.isEmpty || Date() > deadline { return Outcome(killed: killed, remaining: all.sorted()) }
            cgroup?.kill()
            if !live.isEmpty {
                _ = ChildProcess.runBlocking(ProcessSpec(
                    executable: RunAs.setpriv,
                    arguments: ["--reuid=\(account.uid)", "--regid=\(account.gid)", "--clear-groups", "--", "/bin/sh", "-c", "kill -KILL -1"],
                    stdout: .null, stderr: .null, inherit: .only([])))
            }
            usleep(20_000)
        }
    }
}
