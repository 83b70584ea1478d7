import DrillCore
import Foundation

/// The archive in a local folder. Files are created atomically and durably (temp file, fsync, rename, fsync of the
/// folder); an exclusive `flock` on `.lock` serialises writers across processes.
public struct LocalArchiveStorage: ArchiveStorage {
    public let root: String

    public init(root: String) { self.root = (root as NSString).expandingTildeInPath }

    public var location: String { root }

    public func list() async throws -> [String] {
        let fm = FileManager.default
        guard fm.fileExists(atPath: root) else { return [] }
        guard let e = fm.enumerator(atPath: root) else { return [] }
        var out: [String] = []
        while let rel = e.nextObject() as? String {
            let name = (rel as NSString).lastPathComponent
            if name.hasPrefix(".") { continue }
            var isDir: ObjCBool = false
            if fm.fileExists(atPath: (root as NSString).appendingPathComponent(rel), isDirectory: &isDir), !isDir.boolValue {
                out.append(rel)
            }
        }
        return out.sorted()
    }

    public func read(_ path: String) async throws -> Data {
        guard let d = FileManager.default.contents(atPath: (root as NSString).appendingPathComponent(path)) else {
            throw DrillLiveError.io("cannot read \(path) in the archive \(root)")
        }
        return d
    }

    public func create(_ path: String, data: Data) async throws {
        let full = (root as NSString).appendingPathComponent(path)
        let dir = (full as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try AtomicFile.write(data, to: full, exclusive: true)
    }

    public func withLock<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let lockPath = (root as NSString).appendingPathComponent(".lock")
        let fd = open(lockPath, O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw DrillLiveError.io("cannot open the archive lock \(lockPath)") }
        defer { close(fd) }
        // flock blocks while another run holds the lock: wait on a thread of its own, not on Swift's cooperative pool.
        let locked = await withCheckedContinuation { (k: CheckedContinuation<Bool, Never>) in
            Thread {
                var rc = flock(fd, LOCK_EX)
                while rc != 0 && errno == EINTR { rc = flock(fd, LOCK_EX) }
                k.resume(returning: rc == 0)
            }.start()
        }
        guard locked else { throw DrillLiveError.io("cannot lock the archive \(root)") }
        defer { flock(fd, LOCK_UN) }
        return try await body()
    }
}

/// Atomic, durable file writes.
public enum AtomicFile {
    /// Writes `data` to a temp file beside `path`, fsyncs it, renames it into place and fsyncs the folder.
    /// With `exclusive`, fails when `path` already exists (the archive never overwrites). The file is created with
    /// `mode` less the umask; with `exactMode` it gets exactly `mode` whatever the umask, and with `owner` (root
    /// only; a failure is ignored) that owner and group.
    public static func write(_ data: Data, to path: String, exclusive: Bool = false, mode: mode_t = 0o644,
                             exactMode: Bool = false, owner: (uid: uid_t, gid: gid_t)? = nil) throws {
        let dir = (path as NSString).deletingLastPathComponent
        let tmp = (dir as NSString).appendingPathComponent(".\((path as NSString).lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        let fd = open(tmp, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, mode)
        guard fd >= 0 else { throw DrillLiveError.io("cannot create \(tmp): \(String(cString: strerror(errno)))") }
        var ok = false
        defer {
            if !ok { unlink(tmp) }
        }
        do {
            defer { close(fd) }
            if exactMode, fchmod(fd, mode) != 0 {
                throw DrillLiveError.io("cannot set the mode of \(tmp): \(String(cString: strerror(errno)))")
            }
            if let owner { _ = fchown(fd, owner.uid, owner.gid) }
            try data.withUnsafeBytes { buf in
                var off = 0
                while off < buf.count {
                    let n = Glibc.write(fd, buf.baseAddress! + off, buf.count - off)
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw DrillLiveError.io("cannot write \(tmp): \(String(cString: strerror(errno)))")
                    }
                    off += n
                }
            }
            guard fsync(fd) == 0 else { throw DrillLiveError.io("fsync of \(tmp) failed") }
        }
        if exclusive {
            // link() fails with EEXIST instead of replacing: no report is ever overwritten.
            guard link(tmp, path) == 0 else {
                throw DrillLiveError.io(errno == EEXIST ? "\(path) already exists" : "cannot create \(path): \(String(cString: strerror(errno)))")
            }
            unlink(tmp)
        } else {
            guard rename(tmp, path) == 0 else { throw DrillLiveError.io("cannot rename into \(path): \(String(cString: strerror(errno)))") }
        }
        ok = true
        let dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 {
            fsync(dfd)
            close(dfd)
        }
    }
}
