import DrillCore
import DrillLive
import DrillTesting
import Foundation
import Testing

/// `--junit PATH`, `--metrics-file PATH` and `drill report --output PATH` by what is at PATH: a regular file or a
/// missing one is replaced atomically, a symlink is followed (and stays a link), a FIFO or a character device is
/// written directly, a folder, a block device or a socket is refused before anything runs.
@Suite("Output paths", .timeLimit(.minutes(5)))
struct OutputPathTests {
    @Test("a chain of symlinks is followed: the links stay links, the target gets the data and keeps its mode")
    func symlinkChain() async throws {
        let folder = TempFolder("outlink")
        let target = folder.file("real/metrics.prom")
        _ = folder.sub("real")
        try Data("old\n".utf8).write(to: URL(fileURLWithPath: target))
        chmod(target, 0o600)
        try FileManager.default.createSymbolicLink(atPath: folder.file("abs"), withDestinationPath: target)
        try FileManager.default.createSymbolicLink(atPath: folder.file("rel"), withDestinationPath: "abs")  // relative
        #expect(try OutputFile.destination(of: folder.file("rel")) == .replace(
            path: target, existing: .init(mode: 0o600, uid: geteuid(), gid: getegid())))
        try await OutputFile.write(Data("new\n".utf8), to: folder.file("rel"))
        #expect(try fileType(folder.file("rel")) == S_IFLNK)
        #expect(try fileType(folder.file("abs")) == S_IFLNK)
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "new\n")
        #expect(try mode(target) == 0o600)
        // A dangling link: its target is created, the link stays.
        try FileManager.default.createSymbolicLink(atPath: folder.file("dangling"), withDestinationPath: "real/new.xml")
        try await OutputFile.write(Data("x".utf8), to: folder.file("dangling"))
        #expect(try fileType(folder.file("dangling")) == S_IFLNK)
        #expect(try String(contentsOfFile: folder.file("real/new.xml"), encoding: .utf8) == "x")
        // A loop is refused, not followed for ever.
        try FileManager.default.createSymbolicLink(atPath: folder.file("loop1"), withDestinationPath: "loop2")
        try FileManager.default.createSymbolicLink(atPath: folder.file("loop2"), withDestinationPath: "loop1")
        #expect(throws: OutputFile.Refused.self) { try OutputFile.destination(of: folder.file("loop1")) }
    }

    @Test("a character device is written directly and stays a device; a FIFO's reader gets the data")
    func deviceAndFIFO() async throws {
        let folder = TempFolder("outdev")
        // A node of /dev/null's device (1, 3), made here so that a bug cannot replace the machine's /dev/null.
        let null = folder.file("null")
        #expect(mknod(null, S_IFCHR | 0o666, 0x103) == 0, "mknod: \(String(cString: strerror(errno))) (the tests run as root)")
        try await OutputFile.write(Data("discarded".utf8), to: null)
        #expect(try fileType(null) == S_IFCHR)
        let fifo = folder.file("fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        let reader = FIFOReader(fifo)
        let payload = Data(String(repeating: "drill_rto_seconds 1\n", count: 10_000).utf8)  // 200 KB: beyond a pipe's buffer
        try await OutputFile.write(payload, to: fifo)
        #expect(reader.finish() == payload)
        #expect(try fileType(fifo) == S_IFIFO)
    }

    @Test("a folder, a block device, a socket and a missing folder are refused with the reason")
    func refused() throws {
        let folder = TempFolder("outbad")
        let block = folder.file("blk")
        #expect(mknod(block, S_IFBLK | 0o600, 0x7c8) == 0, "mknod: \(String(cString: strerror(errno)))")  // loop200, never opened
        let socket = folder.file("sock")
        try bindUnixSocket(socket)
        let cases: [(String, String)] = [
            (folder.sub("dir"), "is a folder"),
            (block, "block device"),
            (socket, "socket"),
            (folder.file("missing/junit.xml"), "does not exist"),
        ]
        for (path, reason) in cases {
            #expect {
                try OutputFile.destination(of: path)
            } throws: { error in
                (error as? OutputFile.Refused)?.reason.contains(reason) == true
            }
        }
        #expect(try fileType(block) == S_IFBLK)
    }

    @Test("drill run --junit to a symlink and --metrics-file to a FIFO: the link stays, a reader gets the metrics")
    func runWritesThroughLinkAndFIFO() async throws {
        let folder = TempFolder("outrun")
        let backups = folder.sub("backups")
        _ = try copy(try await Shop.shared.dump(.custom), into: backups, as: "shop.dump")
        let config = try ConfigFixture(in: folder, drills: ["shop": ConfigFixture.drill(location: backups)])
        let out = folder.sub("out")
        let target = (out as NSString).appendingPathComponent("junit-target.xml")
        try Data("previous".utf8).write(to: URL(fileURLWithPath: target))
        let link = folder.file("junit.xml")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        let fifo = folder.file("metrics.fifo")
        #expect(mkfifo(fifo, 0o644) == 0)
        let reader = FIFOReader(fifo)
        let r = try await DrillBinary.run(["run", "shop", "--config", config.directory, "--archive", folder.sub("archive"),
                                           "--junit", link, "--metrics-file", fifo],
                                          environment: ["TMPDIR": folder.sub("scratch")])
        let metrics = String(decoding: reader.finish(), as: UTF8.self)
        #expect(r.exitCode == 0, "\(r.output)")
        #expect(try fileType(link) == S_IFLNK)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == target)
        let junit = try String(contentsOfFile: target, encoding: .utf8)
        #expect(junit.contains("<testsuites") && junit.contains("shop"))
        #expect(try fileType(fifo) == S_IFIFO)
        #expect(metrics.contains("drill_rto_seconds{") && metrics.contains("drill=\"shop\""), "metrics read: \(metrics.prefix(300))")
        expectNothingLeft(folder)
    }

    @Test("drill run --junit to a block device exits 2 before any drill runs; drill report --output to a folder too")
    func runRefusesSpecialFiles() async throws {
        let folder = TempFolder("outref")
        let config = try ConfigFixture(in: folder, drills: ["shop": ConfigFixture.drill(location: folder.sub("backups"))])
        let block = folder.file("blk")
        #expect(mknod(block, S_IFBLK | 0o600, 0x7c8) == 0, "mknod: \(String(cString: strerror(errno)))")
        let archive = folder.sub("archive")
        let r = try await DrillBinary.run(["run", "shop", "--config", config.directory, "--archive", archive, "--junit", block],
                                          environment: ["TMPDIR": folder.sub("scratch")])
        #expect(r.exitCode == 2, "\(r.output)")
        #expect(r.stderr.contains("--junit \(block): is a block device"), "\(r.stderr)")
        #expect(folder.entries("archive").isEmpty, "no drill may run")
        #expect(try fileType(block) == S_IFBLK)
        let html = folder.sub("audit.html")  // a folder named like the output
        let report = try await DrillBinary.run(["report", "--period", "2026", "--output", html, "--config", config.directory,
                                                "--archive", archive])
        #expect(report.exitCode == 2, "\(report.output)")
        #expect(report.stderr.contains("is a folder"), "\(report.stderr)")
    }
}

/// The file type bits of `path` (not following a symlink).
private func fileType(_ path: String) throws -> mode_t {
    var st = stat()
    guard lstat(path, &st) == 0 else { throw DrillLiveError.io("lstat \(path): \(String(cString: strerror(errno)))") }
    return st.st_mode & S_IFMT
}

private func mode(_ path: String) throws -> mode_t {
    var st = stat()
    guard stat(path, &st) == 0 else { throw DrillLiveError.io("stat \(path)") }
    return st.st_mode & 0o7777
}

/// Leaves a unix socket file at `path` (bound, then closed: the file stays).
private func bindUnixSocket(_ path: String) throws {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw DrillLiveError.io("socket") }
    defer { close(fd) }
    var addr = sockaddr_un()
    addr.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &addr.sun_path) { buf in
        let bytes = Array(path.utf8)
        buf.copyBytes(from: bytes.prefix(buf.count - 1))
    }
    let rc = withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    guard rc == 0 else { throw DrillLiveError.io("bind \(path): \(String(cString: strerror(errno)))") }
}

/// Reads a FIFO on a thread of its own, from the first writer's open to its close.
final class FIFOReader: @unchecked Sendable {
    private let path: String
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    init(_ path: String) {
        self.path = path
        Thread { [self] in
            let fd = open(path, O_RDONLY | O_CLOEXEC)  // blocks until a writer opens
            if fd >= 0 {
                var buf = [UInt8](repeating: 0, count: 65536)
                while true {
                    let n = read(fd, &buf, buf.count)
                    if n < 0 && errno == EINTR { continue }
                    if n <= 0 { break }
                    data.append(contentsOf: buf[0..<n])
                }
                close(fd)
            }
            done.signal()
        }.start()
    }

    /// What was read. A reader still waiting for a writer (nobody wrote) is released with an empty write.
    func finish() -> Data {
        let w = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC)
        if w >= 0 { close(w) }
        done.wait()
        return data
    }
}
