import DrillCore
import Foundation
import Logging

/// What each drill process has made under a scratch root, so that what a dead one left can be found and removed.
///
/// Every process that creates scratch clusters (or stages downloads) keeps one record,
/// `<scratch root>/.drill-runs/<pid>-<start ticks>.json` (0600 in a 0700 folder, replaced atomically on every change
/// and deleted when nothing is left): its owner (pid, start time from `/proc/<pid>/stat`, boot id) and its items
/// (folders, processes with their start times, the leased account, the cgroup). A record whose owner is gone (no such
/// pid, or the pid now belongs to a process that started at another time, or the machine rebooted) is a dead run:
/// `RunCleanup` removes what it lists and leaves a notice for the next report of the same drill.
public final class RunRegistry: @unchecked Sendable {
    /// The registry folder under `scratchRoot`.
    public let directory: String
    public let scratchRoot: String
    private let lock = NSLock()
    private var items: [RunItem] = []
    private let owner: RunOwner

    private static let registries = Registries()

    /// This process's registry for `scratchRoot`.
    public static func at(_ scratchRoot: String) -> RunRegistry {
        registries.get((scratchRoot as NSString).standardizingPath)
    }

    init(scratchRoot: String) {
        self.scratchRoot = scratchRoot
        directory = Self.directory(under: scratchRoot)
        owner = RunOwner.current
    }

    static func directory(under scratchRoot: String) -> String {
        (scratchRoot as NSString).appendingPathComponent(".drill-runs")
    }

    /// This process's record file.
    public var recordPath: String { (directory as NSString).appendingPathComponent("\(owner.pid)-\(owner.startTicks).json") }

    /// Records `item`; returns its id. Best effort: a registry that cannot be written costs only the cleanup.
    @discardableResult
    public func add(_ item: RunItem) -> String {
        lock.withLock {
            items.removeAll { $0.id == item.id }
            items.append(item)
            save()
        }
        return item.id
    }

    /// Changes a recorded item (e.g. the server's pid once it runs).
    public func update(_ id: String, _ change: (inout RunItem) -> Void) {
        lock.withLock {
            guard let i = items.firstIndex(where: { $0.id == id }) else { return }
            change(&items[i])
            save()
        }
    }

    /// Forgets an item (it was removed, or handed to the user with `--keep`).
    public func remove(_ id: String) {
        lock.withLock {
            items.removeAll { $0.id == id }
            save()
        }
    }

    public var currentItems: [RunItem] { lock.withLock { items } }

    private func save() {
        if items.isEmpty {
            unlink(recordPath)
            rmdir(directory)  // only when empty: no other run's record, no notice waiting
            return
        }
        let record = RunRecord(owner: owner, items: items)
        guard let data = try? RunRecord.encoder.encode(record) else { return }
        // Twice: another process may remove the (then empty) folder between its creation and the write.
        for _ in 0..<2 {
            guard RegistryFolder.ensure(directory) else { return }
            if (try? RegistryFolder.write(data, to: recordPath)) != nil { return }
        }
    }
}

/// One registry per scratch root in this process.
private final class Registries: @unchecked Sendable {
    private let lock = NSLock()
    private var byRoot: [String: RunRegistry] = [:]
    func get(_ root: String) -> RunRegistry {
        lock.withLock {
            if let r = byRoot[root] { return r }
            let r = RunRegistry(scratchRoot: root)
            byRoot[root] = r
            return r
        }
    }
}

/// The process a record belongs to.
public struct RunOwner: Codable, Sendable, Equatable {
    public var pid: Int32
    public var startTicks: UInt64
    public var bootId: String
    public var startedAt: Date
    /// drill's command line (no secret is ever on it), shortened.
    public var command: String

    static let current = RunOwner(
        pid: getpid(), startTicks: ProcessTable.selfStartTicks, bootId: ProcessTable.bootID,
        startedAt: ProcessTable.startDate(ticks: ProcessTable.selfStartTicks) ?? Date(),
        command: String(CommandLine.arguments.joined(separator: " ").prefix(200)))

    /// Whether the owner still runs: same boot, and its pid is the process that started at `startTicks`.
    public var isAlive: Bool {
        bootId == ProcessTable.bootID && ProcessTable.isAlive(pid: pid, startTicks: startTicks)
    }
}

/// Something a run made: a scratch cluster, a staged download, a process, a private GnuPG home (whose gpg-agent
/// outlives a killed drill).
public struct RunItem: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable { case cluster, staged, process, gnupg }

    public struct Process: Codable, Sendable, Equatable {
        public var pid: Int32
        public var startTicks: UInt64
        public init(pid: Int32, startTicks: UInt64) {
            self.pid = pid
            self.startTicks = startTicks
        }
        /// The process `pid` as it is now, nil when it does not exist.
        public static func of(_ pid: Int32) -> Process? { ProcessTable.startTicks(of: pid).map { Process(pid: pid, startTicks: $0) } }
    }

    public struct Account: Codable, Sendable, Equatable {
        public var user: String
        public var uid: UInt32
        public var gid: UInt32
        public var dedicated: Bool
        public var slot: Int?
    }

    public var id: String
    public var kind: Kind
    /// The drill it belongs to (for the notice in that drill's next report).
    public var drill: String?
    /// Folders and files to delete.
    public var paths: [String]
    public var processes: [Process]
    public var account: Account?
    public var cgroup: String?

    public init(id: String = UUID().uuidString, kind: Kind, drill: String?, paths: [String] = [], processes: [Process] = [],
                account: Account? = nil, cgroup: String? = nil) {
        self.id = id
        self.kind = kind
        self.drill = drill
        self.paths = paths
        self.processes = processes
        self.account = account
        self.cgroup = cgroup
    }

    /// A staged download (a file or a staging folder) of `drill`.
    public static func staged(_ path: String, drill: String?) -> RunItem { RunItem(kind: .staged, drill: drill, paths: [path]) }
}

struct RunRecord: Codable {
    var version = 1
    var owner: RunOwner
    var items: [RunItem]

    static var encoder: JSONEncoder {
        let e = JSONEncoder()
        e.keyEncodingStrategy = .convertToSnakeCase
        e.dateEncodingStrategy = .iso8601
        e.outputFormatting = [.sortedKeys, .prettyPrinted]
        return e
    }

    static var decoder: JSONDecoder {
        let d = JSONDecoder()
        d.keyDecodingStrategy = .convertFromSnakeCase
        d.dateDecodingStrategy = .iso8601
        return d
    }
}

/// The registry folder: private to drill's user, never a symlink; files replaced atomically.
enum RegistryFolder {
    /// Creates the folder 0700 if needed; false when it exists but is not a private folder of this user.
    static func ensure(_ dir: String) -> Bool {
        if mkdir(dir, 0o700) != 0 && errno != EEXIST {
            try? FileManager.default.createDirectory(atPath: (dir as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            if mkdir(dir, 0o700) != 0 && errno != EEXIST { return false }
        }
        return isPrivate(dir)
    }

    static func isPrivate(_ dir: String) -> Bool {
        var st = stat()
        guard lstat(dir, &st) == 0 else { return false }
        return (st.st_mode & S_IFMT) == S_IFDIR && st.st_uid == geteuid() && (st.st_mode & 0o077) == 0
    }

    /// Writes a temp file (0600) beside `path` and renames it over `path`.
    static func write(_ data: Data, to path: String) throws {
        let tmp = path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(tmp, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw DrillLiveError.io("cannot create \(tmp): \(String(cString: strerror(errno)))") }
        let ok = data.withUnsafeBytes { buf -> Bool in
            var off = 0
            while off < buf.count {
                let n = Glibc.write(fd, buf.baseAddress! + off, buf.count - off)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return false }
                off += n
            }
            return true
        }
        close(fd)
        guard ok, rename(tmp, path) == 0 else {
            unlink(tmp)
            throw DrillLiveError.io("cannot write \(path)")
        }
    }
}
