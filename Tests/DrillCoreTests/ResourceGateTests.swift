import DrillCore
import Foundation
import Synchronization
import Testing

@Suite("Resource gate: disk and memory before a drill starts")
struct ResourceGateTests {
    let gib: Int64 = 1 << 30

    @Test func decisions() {
        let need = ResourceNeed(diskBytes: 10 * gib, memoryBytes: 2 * gib)
        let roomy = HostCapacity(freeDiskBytes: 100 * gib, availableMemoryBytes: 16 * gib)
        let none = ResourceNeed(diskBytes: 0, memoryBytes: 0)
        #expect(ResourceGate.decide(need, capacity: roomy, reserved: none, running: 0, scratchRoot: "/s") == .admit)
        // Reserved by drills already running: wait for them.
        let busy = ResourceNeed(diskBytes: 95 * gib, memoryBytes: 0)
        #expect(ResourceGate.decide(need, capacity: roomy, reserved: busy, running: 3, scratchRoot: "/s") == .wait)
        // Alone and still too big: never, with a finding that names the folder and the figures.
        let small = HostCapacity(freeDiskBytes: 5 * gib, availableMemoryBytes: 16 * gib)
        guard case .never(let why) = ResourceGate.decide(need, capacity: small, reserved: none, running: 0, scratchRoot: "/scratch") else {
            Issue.record("expected never")
            return
        }
        #expect(why.contains("/scratch") && why.contains("10.0 GiB") && why.contains("5.0 GiB"), "\(why)")
        let lowMemory = HostCapacity(freeDiskBytes: 100 * gib, availableMemoryBytes: gib)
        guard case .never(let m) = ResourceGate.decide(need, capacity: lowMemory, reserved: none, running: 0, scratchRoot: "/s") else {
            Issue.record("expected never")
            return
        }
        #expect(m.contains("memory") && m.contains("restore.jobs"), "\(m)")
    }

    @Test func estimatesGrowWithTheBackupAndTheJobs() {
        let point = RestorePoint(uri: "/b/x.dump", name: "x.dump", format: "custom", sizeBytes: 1 << 30)
        let a = ResourceNeed.estimate(point: point, staged: false, jobs: 1, hostMemoryBytes: 16 << 30)
        let b = ResourceNeed.estimate(point: point, staged: true, jobs: 4, hostMemoryBytes: 16 << 30)
        #expect(a.diskBytes >= 5 << 30, "a compressed dump restores to several times its size")
        #expect(b.diskBytes == a.diskBytes + (1 << 30), "a staged copy adds the backup's size")
        #expect(b.memoryBytes > a.memoryBytes)
    }

    @Test func aSecondDrillWaitsUntilTheFirstReleases() async throws {
        let capacity = HostCapacity(freeDiskBytes: 15 * gib, availableMemoryBytes: 16 * gib)
        let gate = ResourceGate(scratchRoot: "/s", poll: .milliseconds(10)) { capacity }
        let need = ResourceNeed(diskBytes: 10 * gib, memoryBytes: gib)
        let release = try await gate.admit(need)
        let admitted = Mutex(false)
        let second = Task {
            let r = try await gate.admit(need)
            admitted.withLock { $0 = true }
            r()
        }
        try await Task.sleep(for: .milliseconds(100))
        #expect(admitted.withLock { $0 } == false, "the second drill must wait: both do not fit at once")
        release()
        release()  // releasing twice frees once
        try await second.value
        #expect(admitted.withLock { $0 })
    }
}
