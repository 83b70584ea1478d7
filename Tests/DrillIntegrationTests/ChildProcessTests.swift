import DrillLive
import Foundation
import Testing

@Suite("Child processes")
struct ChildProcessTests {
    @Test("a child starts with no blocked signals, so cancellation's SIGTERM ends it at once")
    func cancellationTerminates() async throws {
        let child = try ChildProcess(ProcessSpec(executable: "/bin/sleep", arguments: ["30"]))
        let status = try String(contentsOfFile: "/proc/\(child.pid)/status", encoding: .utf8)
        let blocked = status.split(separator: "\n").first { $0.hasPrefix("SigBlk:") }
        #expect(blocked?.hasSuffix("0000000000000000") == true, "\(blocked ?? "")")
        let started = Date()
        let task = Task { await child.wait(killAfter: 20) }
        try await Task.sleep(for: .milliseconds(100))
        task.cancel()
        let result = await task.value
        #expect(result.signal == SIGTERM)
        #expect(Date().timeIntervalSince(started) < 5)
    }

    @Test("output is captured with its head and tail when it is too long; exit codes are reported")
    func boundedCapture() async throws {
        let r = try await ChildProcess.run(ProcessSpec(executable: "/bin/sh", arguments: ["-c", "seq 1 100000; echo oops >&2; exit 3"],
                                                       stdout: .capture(limit: 4096)))
        #expect(r.exitCode == 3)
        #expect(r.stdout.hasPrefix("1\n2\n3\n"))
        #expect(r.stdout.hasSuffix("99999\n100000\n"))
        #expect(r.stdout.contains("bytes omitted"))
        #expect(r.stderr == "oops\n")
    }

    @Test("the child sees only descriptors 0, 1 and 2 of ours")
    func noInheritedDescriptors() async throws {
        let (r, w) = (Pipe(), Pipe())  // open descriptors in this process that a careless spawn would pass on
        defer { _ = (r, w) }
        let out = try await ChildProcess.run(ProcessSpec(executable: "/bin/ls", arguments: ["/proc/self/fd"]))
        let fds = out.stdout.split(separator: "\n").compactMap { Int($0) }.sorted()
        // ls itself opens one descriptor for the listing.
        #expect(fds.filter { $0 > 2 }.count <= 1, "\(fds)")
    }
}
