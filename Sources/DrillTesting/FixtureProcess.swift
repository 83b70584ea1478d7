import DrillLive
import Foundation

/// A helper server started from `Tests/fixtures/drill_fixtures.py` (moto, the fault proxy, a static HTTP server).
/// It binds 127.0.0.1, reports its port on its first output line, and exits when this process goes away; `stop()`
/// and an exit handler end it earlier.
public final class FixtureProcess: @unchecked Sendable {
    public let port: Int
    private let child: ChildProcess

    /// The fixtures folder (`Tests/fixtures`), found from this source file.
    public static var fixturesDirectory: String {
        let here = URL(fileURLWithPath: #filePath)
        return here.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Tests/fixtures").path
    }

    public static var script: String { (fixturesDirectory as NSString).appendingPathComponent("drill_fixtures.py") }

    /// Starts `drill_fixtures.py <arguments>` and waits for its port. (The lead's `ChildProcess` creates its pipes
    /// close-on-exec: with `Foundation.Process` pipes, a long-lived server started concurrently would inherit another
    /// child's pipe and its reader would never see end-of-file.)
    public init(_ arguments: [String]) async throws {
        let child = try ChildProcess(ProcessSpec(executable: "/usr/bin/env", arguments: ["python3", Self.script] + arguments,
                                                 stdout: .pipe, stderr: .null))
        ChildRegistry.shared.add(child.pid)
        let out = child.stdout!
        let line: String = await withCheckedContinuation { k in
            Thread {
                var data = Data()
                while !data.contains(UInt8(ascii: "\n")) {
                    let chunk = out.availableData
                    if chunk.isEmpty { break }
                    data.append(chunk)
                }
                k.resume(returning: String(decoding: data, as: UTF8.self))
            }.start()
        }
        guard let port = Int(line.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            child.signal(SIGTERM)
            throw FixtureError("drill_fixtures.py \(arguments.first ?? "") did not report a port")
        }
        self.port = port
        self.child = child
    }

    /// Ends the server (SIGTERM; its wrapper stops moto in turn).
    public func stop() {
        child.signal(SIGTERM)
        ChildRegistry.shared.remove(child.pid)
    }

    deinit { stop() }

    /// Waits until something accepts connections on 127.0.0.1:`port`.
    public static func waitForPort(_ port: Int, timeout: Duration = .seconds(60)) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if canConnect(port) { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw FixtureError("nothing listens on 127.0.0.1:\(port) after \(timeout)")
    }

    static func canConnect(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    /// A port that was free a moment ago (bound to 0, then released).
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw FixtureError("socket() failed") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw FixtureError("bind() failed") }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &addr) {
            _ = $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}

/// The children still running, ended by an exit handler so that nothing outlives the test process.
final class ChildRegistry: @unchecked Sendable {
    static let shared = ChildRegistry()
    private let lock = NSLock()
    private var pids: Set<Int32> = []
    private var installed = false

    func add(_ pid: Int32) {
        lock.withLock {
            pids.insert(pid)
            if !installed {
                installed = true
                atexit { ChildRegistry.shared.terminateAll() }
            }
        }
    }

    func remove(_ pid: Int32) { _ = lock.withLock { pids.remove(pid) } }

    func terminateAll() {
        for pid in lock.withLock({ pids }) { kill(pid, SIGTERM) }
    }
}

public struct FixtureError: Error, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}
