import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A file the user names for an output (`drill run --junit PATH`, `--metrics-file PATH`, `drill report --output`),
/// written according to what is at PATH when it is written:
/// - nothing, or a regular file: replaced atomically (temp file beside it, fsync, rename, fsync of the folder). An
///   existing file keeps its permission bits (and, when drill runs as root, its owner);
/// - a symbolic link: followed, link after link (at most 40), and its final target handled by these same rules. The
///   link stays a link; a dangling link's target is created;
/// - a FIFO or a character device (`/dev/null`, a terminal): opened for writing and written to directly, no rename.
///   A FIFO without a reader is waited for, at most `readerWait`;
/// - anything else (a folder, a block device, a socket): refused with `OutputFile.Refused`. `drill run` checks its
///   output paths before any drill starts, so a refused path is a usage error (exit 2) and nothing runs.
public enum OutputFile {
    /// How the data will reach the path.
    public enum Destination: Equatable, Sendable {
        /// Atomic replace of `path` (the symlink-resolved path), keeping an existing regular file's mode and owner.
        case replace(path: String, existing: Existing?)
        /// Opened for writing and written directly: a FIFO or a character device.
        case stream(path: String, kind: String)
    }

    /// What an existing regular file keeps when it is replaced.
    public struct Existing: Equatable, Sendable {
        public var mode: mode_t
        public var uid: uid_t
        public var gid: gid_t

        public init(mode: mode_t, uid: uid_t, gid: gid_t) {
            self.mode = mode
            self.uid = uid
            self.gid = gid
        }
    }

    /// A path drill will not write to: a usage error.
    public struct Refused: Error, CustomStringConvertible, Equatable, Sendable {
        public var path: String
        public var reason: String
        public var description: String { "\(path): \(reason)" }
    }

    /// How long a FIFO is waited for a reader before the write fails.
    public static let readerWait: Duration = .seconds(60)

    /// Where and how `path` would be written; throws `Refused` for a path drill will not write to.
    public static func destination(of path: String) throws -> Destination {
        var current = path
        for _ in 0..<40 {
            var st = stat()
            guard lstat(current, &st) == 0 else {
                let err = errno
                guard err == ENOENT else { throw Refused(path: path, reason: "cannot inspect \(current): \(String(cString: strerror(err)))") }
                try checkFolder(of: current, for: path)
                return .replace(path: current, existing: nil)
            }
            switch st.st_mode & S_IFMT {
            case S_IFLNK:
                let target = try readLink(current, for: path)
                current = target.hasPrefix("/") ? target : (folder(of: current) as NSString).appendingPathComponent(target)
            case S_IFREG:
                return .replace(path: current, existing: Existing(mode: st.st_mode & 0o7777, uid: st.st_uid, gid: st.st_gid))
            case S_IFIFO:
                return .stream(path: current, kind: "FIFO")
            case S_IFCHR:
                return .stream(path: current, kind: "character device")
            case S_IFDIR:
                throw Refused(path: path, reason: current == path ? "is a folder; give a file name" : "leads to the folder \(current); give a file name")
            case S_IFBLK:
                throw Refused(path: path, reason: "\(current == path ? "is" : "leads to \(current),") a block device; drill writes only to a regular file, a FIFO or a character device")
            case S_IFSOCK:
                throw Refused(path: path, reason: "\(current == path ? "is" : "leads to \(current),") a socket; drill writes only to a regular file, a FIFO or a character device")
            default:
                throw Refused(path: path, reason: "is a special file drill does not write to")
            }
        }
        throw Refused(path: path, reason: "too many levels of symbolic links")
    }

    /// Writes `data` to `path` by the rules above.
    public static func write(_ data: Data, to path: String) async throws {
        switch try destination(of: path) {
        case .replace(let target, let existing):
            if let existing {
                try AtomicFile.write(data, to: target, mode: existing.mode, exactMode: true,
                                     owner: geteuid() == 0 ? (existing.uid, existing.gid) : nil)
            } else {
                try AtomicFile.write(data, to: target)
            }
        case .stream(let target, let kind):
            let fd = try await openForWriting(target, kind: kind)
            defer { close(fd) }
            try writeAll(data, to: fd, path: target)
        }
    }

    // MARK: - Helpers

    private static func folder(of path: String) -> String {
        let dir = (path as NSString).deletingLastPathComponent
        return dir.isEmpty ? "." : dir
    }

    private static func checkFolder(of target: String, for path: String) throws {
        let dir = folder(of: target)
        var st = stat()
        guard stat(dir, &st) == 0 else {
            throw Refused(path: path, reason: "the folder \(dir) does not exist")
        }
        guard st.st_mode & S_IFMT == S_IFDIR else { throw Refused(path: path, reason: "\(dir) is not a folder") }
    }

    private static func readLink(_ link: String, for path: String) throws -> String {
        var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink(link, &buf, buf.count - 1)
        guard n >= 0 else { throw Refused(path: path, reason: "cannot read the symbolic link \(link): \(String(cString: strerror(errno)))") }
        return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Opens a FIFO or a device for writing. A FIFO is opened non-blocking (ENXIO while nobody reads) and retried
    /// until a reader comes or `readerWait` passes, so a FIFO nobody reads cannot hang drill for ever; the
    /// descriptor is then made blocking again for the writes.
    private static func openForWriting(_ path: String, kind: String) async throws -> Int32 {
        let clock = ContinuousClock()
        let deadline = clock.now + readerWait
        while true {
            let fd = open(path, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
            if fd >= 0 {
                let flags = fcntl(fd, F_GETFL)
                _ = fcntl(fd, F_SETFL, flags & ~O_NONBLOCK)
                return fd
            }
            let err = errno
            guard err == ENXIO || err == EINTR, kind == "FIFO" else {
                throw DrillLiveError.io("cannot open the \(kind) \(path) for writing: \(String(cString: strerror(err)))")
            }
            guard clock.now < deadline else {
                throw DrillLiveError.io("nobody read the FIFO \(path) within \(readerWait); nothing was written")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    private static func writeAll(_ data: Data, to fd: Int32, path: String) throws {
        try data.withUnsafeBytes { buf in
            var off = 0
            while off < buf.count {
                let n = Glibc.write(fd, buf.baseAddress! + off, buf.count - off)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw DrillLiveError.io("cannot write to \(path): \(String(cString: strerror(errno)))")
                }
                off += n
            }
        }
    }
}
