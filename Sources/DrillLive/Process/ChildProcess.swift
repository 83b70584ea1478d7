import CSystem
import Foundation

/// A running child process, started with `posix_spawn`:
/// - the child gets an empty signal mask and default signal dispositions (a parent thread's blocked or ignored signals,
///   as Foundation.Process passes them on, would make the restore tools deaf to SIGTERM);
/// - every descriptor except 0, 1 and 2 is closed in the child, and our pipes are close-on-exec, so no other child
///   inherits a pipe end (an inherited write end keeps a reader from ever seeing end-of-file);
/// - captured output is bounded;
/// - the child inherits drill's environment only as `ProcessSpec.inherit` says (never its credentials by default);
/// - unless `dieWithParent` is off, the child is killed when drill dies (`setpriv --pdeathsig KILL`). Every child is
///   spawned from one thread that lives as long as the process (`SpawnThread`): the parent-death signal fires when the
///   spawning *thread* ends, and the concurrency pool's threads come and go.
public final class ChildProcess: @unchecked Sendable {
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
    private var status: Int32 = 0
    /// Spawn and reap times, for the child's run time.
    private var started = ContinuousClock.now
    private var ended: ContinuousClock.Instant?
    private var waiters: [CheckedContinuation<Void, Never>] = []
    private var blockedWaiters: [DispatchSemaphore] = []
    public private(set) var pid: Int32 = 0

    /// A broken pipe must be an error to handle, not the end of the tool (a restore tool may exit before reading all).
    private static let ignoreSIGPIPE: Void = { _ = Glibc.signal(SIGPIPE, SIG_IGN) }()

    /// Starts the child.
    public init(_ spec: ProcessSpec) throws {
        _ = Self.ignoreSIGPIPE
        self.spec = spec
        var childEnds: [FileHandle] = []
        let input: FileHandle
        switch spec.stdin {
        case .null: input = try Self.devNull(O_RDONLY)
        case .pipe:
            let (r, w) = try Self.pipe()
            input = r
            stdin = w
        case .file(let path):
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw DrillLiveError.io("cannot open \(path)") }
            input = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        }
        childEnds.append(input)
        let (out, outCap, outPipe) = try Self.output(spec.stdout)
        let (err, errCap, errPipe) = try Self.output(spec.stderr)
        childEnds += [out, err]
        (outCapture, stdout, errCapture, stderrPipe) = (outCap, outPipe, errCap, errPipe)
        defer { for fh in childEnds { try? fh.close() } }
        do {
            started = ContinuousClock.now
            pid = try Self.spawn(spec, stdin: input.fileDescriptor, stdout: out.fileDescriptor, stderr: err.fileDescriptor)
        } catch {
            try? stdin?.close()
            try? stdout?.close()
            try? stderrPipe?.close()
            outCapture?.cancel()
            errCapture?.cancel()
            throw error
        }
        outCapture?.start()
        errCapture?.start()
        let pid = self.pid
        Thread { [self] in
            var st: Int32 = 0
            while waitpid(pid, &st, 0) < 0 && errno == EINTR {}
            markExited(st)
        }.start()
    }

    private static func spawn(_ spec: ProcessSpec, stdin: Int32, stdout: Int32, stderr: Int32) throws -> Int32 {
        guard access(spec.executable, X_OK) == 0 else {
            throw DrillLiveError.io("cannot start \(spec.executable): \(String(cString: strerror(errno)))")
        }
        // Descriptors to pass are copied high first, so that placing them at 3, 4, … cannot overwrite one another.
        let passed = spec.passDescriptors.map { fcntl($0, F_DUPFD_CLOEXEC, 100) }
        defer { for fd in passed where fd >= 0 { close(fd) } }
        guard !passed.contains(where: { $0 < 0 }) else { throw DrillLiveError.io("cannot pass a descriptor to \(spec.executable)") }
        let (executable, arguments) = Self.command(spec)
        return try SpawnThread.shared.sync {
            try spawnNow(spec, executable: executable, arguments: arguments, passed: passed, stdin: stdin, stdout: stdout,
                         stderr: stderr)
        }
    }

    /// The command actually executed: `spec`'s, under `setpriv --pdeathsig KILL` when the child must die with drill.
    /// A command that is already `setpriv` (a `RunAs` wrap) gets the option itself: `setpriv` sets the signal after it
    /// changes user, and a change of user clears it.
    static func command(_ spec: ProcessSpec) -> (String, [String]) {
        guard spec.dieWithParent, FileManager.default.isExecutableFile(atPath: RunAs.setpriv) else {
            return (spec.executable, spec.arguments)
        }
        if spec.executable == RunAs.setpriv {
            if spec.arguments.contains("--pdeathsig") { return (spec.executable, spec.arguments) }
            return (spec.executable, ["--pdeathsig", "KILL"] + spec.arguments)
        }
        return (RunAs.setpriv, ["--pdeathsig", "KILL", "--", spec.executable] + spec.arguments)
    }

    private static func spawnNow(_ spec: ProcessSpec, executable: String, arguments: [String], passed: [Int32],
                                 stdin: Int32, stdout: Int32, stderr: Int32) throws -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdin, 0)
        posix_spawn_file_actions_adddup2(&actions, stdout, 1)
        posix_spawn_file_actions_adddup2(&actions, stderr, 2)
        for (i, fd) in passed.enumerated() { posix_spawn_file_actions_adddup2(&actions, fd, Int32(3 + i)) }
        drill_spawn_addclosefrom(&actions, Int32(3 + passed.count))
        if let wd = spec.workingDirectory { drill_spawn_addchdir(&actions, wd) }
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attr, &mask)
        var defaults = sigset_t()
        sigfillset(&defaults)
        posix_spawnattr_setsigdefault(&attr, &defaults)
        var flags = Int32(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)
        if spec.newSession { flags |= drill_spawn_setsid_flag() }
        posix_spawnattr_setflags(&attr, Int16(flags))
        let env = spec.resolvedEnvironment(from: ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        var argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        var envp: [UnsafeMutablePointer<CChar>?] = env.map { strdup($0) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, &attr, &argv, &envp)
        guard rc == 0 else {
            throw DrillLiveError.io("cannot start \(spec.executable): \(String(cString: strerror(rc)))")
        }
        return pid
    }

    private static func devNull(_ flags: Int32) throws -> FileHandle {
        let fd = open("/dev/null", flags | O_CLOEXEC)
        guard fd >= 0 else { throw DrillLiveError.io("cannot open /dev/null") }
        return FileHandle(fileDescriptor: fd, closeOnDealloc: true)
    }

    /// The child's end of an output, a capture reading our end, and our end when the caller reads it.
    private static func output(_ o: ProcessSpec.Output) throws -> (FileHandle, BoundedCapture?, FileHandle?) {
        switch o {
        case .null: return (try devNull(O_WRONLY), nil, nil)
        case .capture(let limit):
            let (r, w) = try pipe()
            return (w, BoundedCapture(r, limit: limit), nil)
        case .file(let path):
            let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw DrillLiveError.io("cannot open \(path) for writing") }
            return (FileHandle(fileDescriptor: fd, closeOnDealloc: true), nil, nil)
        case .pipe:
            let (r, w) = try pipe()
            return (w, nil, r)
        }
    }

    /// A pipe whose both ends are close-on-exec (the child's copy is made by dup2, which clears the flag).
    static func pipe() throws -> (read: FileHandle, write: FileHandle) {
        var fds: [Int32] = [0, 0]
        guard drill_pipe_cloexec(&fds) == 0 else { throw DrillLiveError.io("pipe2 failed: \(String(cString: strerror(errno)))") }
        return (FileHandle(fileDescriptor: fds[0], closeOnDealloc: true), FileHandle(fileDescriptor: fds[1], closeOnDealloc: true))
    }

    private func markExited(_ st: Int32) {
        let ws: [CheckedContinuation<Void, Never>] = lock.withLock {
            exited = true
            status = st
            ended = ContinuousClock.now
            for s in blockedWaiters { s.signal() }
            blockedWaiters = []
            defer { waiters = [] }
            return waiters
        }
        for w in ws { w.resume() }
    }

    /// Sends a signal to the child while it runs.
    public func signal(_ sig: Int32) {
        lock.withLock { if !exited { kill(pid, sig) } }
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
        let (st, ran) = lock.withLock { (status, ended.map { started.duration(to: $0) } ?? .zero) }
        let seconds = Double(ran.components.seconds) + Double(ran.components.attoseconds) / 1e18
        return ProcessResult(exitCode: drill_wifexited(st) != 0 ? drill_wexitstatus(st) : nil,
                             signal: drill_wifsignaled(st) != 0 ? drill_wtermsig(st) : nil, stdout: out, stderr: err,
                             seconds: seconds)
    }

    /// Runs a child to completion.
    public static func run(_ spec: ProcessSpec) async throws -> ProcessResult {
        try await ChildProcess(spec).wait()
    }

    /// Waits for the child to exit, blocking the calling thread, for at most `timeout` seconds (nil: as long as it
    /// takes). For short administrative commands run from synchronous code. Nil when the time ran out.
    public func waitBlocking(timeout: Double? = nil) -> ProcessResult? {
        let s = DispatchSemaphore(value: 0)
        let done = lock.withLock {
            if exited { return true }
            blockedWaiters.append(s)
            return false
        }
        if !done {
            if let timeout {
                guard s.wait(timeout: .now() + timeout) == .success else { return nil }
            } else {
                s.wait()
            }
        }
        let out = outCapture?.finish(timeout: 5) ?? ""
        let err = errCapture?.finish(timeout: 5) ?? ""
        let st = lock.withLock { status }
        return ProcessResult(exitCode: drill_wifexited(st) != 0 ? drill_wexitstatus(st) : nil,
                             signal: drill_wifsignaled(st) != 0 ? drill_wtermsig(st) : nil, stdout: out, stderr: err)
    }

    /// Runs a short command to completion from synchronous code; a start failure is exit status 127.
    public static func runBlocking(_ spec: ProcessSpec) -> ProcessResult {
        do { return try ChildProcess(spec).waitBlocking()! } catch {
            return ProcessResult(exitCode: 127, signal: nil, stdout: "", stderr: "\(error)")
        }
    }
}

/// The one thread every child is spawned from. It never ends, so a child's parent-death signal (PR_SET_PDEATHSIG,
/// which the kernel ties to the spawning thread) fires only when drill itself is gone.
final class SpawnThread: @unchecked Sendable {
    static let shared = SpawnThread()
    private let condition = NSCondition()
    private var jobs: [@Sendable () -> Void] = []

    private init() {
        let t = Thread { [unowned self] in self.loop() }
        t.name = "drill-spawn"
        t.start()
    }

    private func loop() {
        while true {
            condition.lock()
            while jobs.isEmpty { condition.wait() }
            let job = jobs.removeFirst()
            condition.unlock()
            job()
        }
    }

    /// Runs `body` on the spawn thread and waits for it.
    func sync<T>(_ body: @escaping () throws -> T) throws -> T {
        let box = SpawnBox<T>()
        box.body = body
        condition.lock()
        jobs.append {
            box.result = Result { try box.body!() }
            box.body = nil
            box.done.signal()
        }
        condition.signal()
        condition.unlock()
        box.done.wait()
        return try box.result!.get()
    }
}

private final class SpawnBox<T>: @unchecked Sendable {
    var body: (() throws -> T)?
    var result: Result<T, any Error>?
    let done = DispatchSemaphore(value: 0)
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
