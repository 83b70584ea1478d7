import CSystem
import Foundation

/// A running child process. Pipes are created close-on-exec so that no other child inherits them (an inherited write
/// end would keep a reader from ever seeing end-of-file). Captured output is bounded.
public final class ChildProcess: @unchecked Sendable {
    private let process = Process()
    public let spec: ProcessSpec
    /// The write end of the child's standard input, when `stdin` is `.pipe`. Close it to send end-of-file.
    public private(set) var stdin: FileHandle?
    /// The read end of the child's standard output, when `stdout` is `.pipe`.
    public private(set) var stdout: FileHandle?
    /// The read end of the child's standard error, when `stderr` is `.pipe`.
    public private(set) var stderrPipe: FileHandle?
    private var outCapture: BoundedCapture?
    private var errCapture: BoundedCapture?
    private let lock = NSLock()
    private var exited = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    public var pid: Int32 { process.processIdentifier }

    /// Starts the child.
    public init(_ spec: ProcessSpec) throws {
        self.spec = spec
        process.executableURL = URL(fileURLWithPath: spec.executable)
        process.arguments = spec.arguments
        process.environment = spec.resolvedEnvironment(from: ProcessInfo.processInfo.environment)
        if let wd = spec.workingDirectory { process.currentDirectoryURL = URL(fileURLWithPath: wd) }
        var closeAfterLaunch: [FileHandle] = []

        switch spec.stdin {
        case .null: process.standardInput = FileHandle.nullDevice
        case .pipe:
            let (r, w) = try Self.pipe()
            process.standardInput = r
            stdin = w
            closeAfterLaunch.append(r)
        case .file(let path):
            guard let fh = FileHandle(forReadingAtPath: path) else { throw DrillLiveError.io("cannot open \(path)") }
            process.standardInput = fh
            closeAfterLaunch.append(fh)
        }
        (process.standardOutput, outCapture, stdout) = try Self.output(spec.stdout, &closeAfterLaunch)
        (process.standardError, errCapture, stderrPipe) = try Self.output(spec.stderr, &closeAfterLaunch)

        process.terminationHandler = { [weak self] _ in self?.markExited() }
        do {
            try process.run()
        } catch {
            for fh in closeAfterLaunch { try? fh.close() }
            try? stdin?.close()
            try? stdout?.close()
            outCapture?.cancel()
            errCapture?.cancel()
            throw DrillLiveError.io("cannot start \(spec.executable): \(error.localizedDescription)")
        }
        for fh in closeAfterLaunch { try? fh.close() }
        outCapture?.start()
        errCapture?.start()
    }

    private static func output(_ o: ProcessSpec.Output, _ close: inout [FileHandle]) throws -> (Any, BoundedCapture?, FileHandle?) {
        switch o {
        case .null: return (FileHandle.nullDevice, nil, nil)
        case .capture(let limit):
            let (r, w) = try pipe()
            close.append(w)
            return (w, BoundedCapture(r, limit: limit), nil)
        case .file(let path):
            let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw DrillLiveError.io("cannot open \(path) for writing") }
            let fh = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
            close.append(fh)
            return (fh, nil, nil)
        case .pipe:
            let (r, w) = try pipe()
            close.append(w)
            return (w, nil, r)
        }
    }

    /// A pipe whose both ends are close-on-exec (the child's copy is made by dup2, which clears the flag).
    static func pipe() throws -> (read: FileHandle, write: FileHandle) {
        var fds: [Int32] = [0, 0]
        guard drill_pipe_cloexec(&fds) == 0 else { throw DrillLiveError.io("pipe2 failed: \(String(cString: strerror(errno)))") }
        return (FileHandle(fileDescriptor: fds[0], closeOnDealloc: true), FileHandle(fileDescriptor: fds[1], closeOnDealloc: true))
    }

    private func markExited() {
        let ws: [CheckedContinuation<Void, Never>] = lock.withLock {
            exited = true
            defer { waiters = [] }
            return waiters
        }
        for w in ws { w.resume() }
    }

    /// Sends a signal to the child.
    public func signal(_ sig: Int32) {
        if isRunning { kill(pid, sig) }
    }

    public var isRunning: Bool { lock.withLock { !exited } }

    /// Waits for the child to exit; on task cancellation sends SIGTERM (then SIGKILL after `killAfter` seconds).
    public func wait(killAfter: Double = 10) async -> ProcessResult {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let done = lock.withLock {
                    if exited { return true }
                    waiters.append(c)
                    return false
                }
                if done { c.resume() }
            }
        } onCancel: {
            self.signal(SIGTERM)
            DispatchQueue.global().asyncAfter(deadline: .now() + killAfter) { [weak self] in self?.signal(SIGKILL) }
        }
        // Output readers finish at end-of-file; bound the wait in case a grandchild still holds the pipe.
        let out = outCapture?.finish(timeout: 5) ?? ""
        let err = errCapture?.finish(timeout: 5) ?? ""
        let reason = process.terminationReason
        let status = process.terminationStatus
        return ProcessResult(exitCode: reason == .exit ? status : nil, signal: reason == .uncaughtSignal ? status : nil,
                             stdout: out, stderr: err)
    }

    /// Runs a child to completion.
    public static func run(_ spec: ProcessSpec) async throws -> ProcessResult {
        try await ChildProcess(spec).wait()
    }
}

/// Reads a pipe on its own thread, keeping the head and the tail when the output exceeds the limit.
final class BoundedCapture: @unchecked Sendable {
    private let handle: FileHandle
    private let limit: Int
    private var head = Data()
    private var tail = Data()
    private var dropped = 0
    private let done = DispatchSemaphore(value: 0)
    private let lock = NSLock()

    init(_ handle: FileHandle, limit: Int) {
        self.handle = handle
        self.limit = max(1024, limit)
    }

    func start() {
        let t = Thread { [self] in
            let fd = handle.fileDescriptor
            var buf = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, 65536) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                append(Data(buf[0..<n]))
            }
            done.signal()
        }
        t.start()
    }

    func cancel() { try? handle.close() }

    private func append(_ d: Data) {
        lock.withLock {
            let half = limit / 2
            if head.count < half {
                let take = min(half - head.count, d.count)
                head.append(d.prefix(take))
                if take == d.count { return }
                tail.append(d.dropFirst(take))
            } else {
                tail.append(d)
            }
            if tail.count > half {
                dropped += tail.count - half
                tail = Data(tail.suffix(half))
            }
        }
    }

    func finish(timeout: Double) -> String {
        _ = done.wait(timeout: .now() + timeout)
        return lock.withLock {
            var s = String(decoding: head, as: UTF8.self)
            if dropped > 0 { s += "\n[… \(dropped) bytes omitted …]\n" }
            s += String(decoding: tail, as: UTF8.self)
            return s
        }
    }
}
