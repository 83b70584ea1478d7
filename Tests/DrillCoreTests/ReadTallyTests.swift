import DrillCore
import Testing

/// The bytes of a backup a restore tool consumed, summed over its processes (`pg_restore -j N`'s workers).
@Suite("Restore progress: bytes read by a tool's processes")
struct ReadTallyTests {
    let parent = ReadTally.ProcessKey(pid: 100, startTicks: 1)
    let worker1 = ReadTally.ProcessKey(pid: 101, startTicks: 2)
    let worker2 = ReadTally.ProcessKey(pid: 102, startTicks: 2)

    @Test("the processes' reads add up; an exited worker keeps its count")
    func sumsAndKeeps() {
        var t = ReadTally(total: 1_000)
        #expect(t.record([parent: 50]) == 50)
        #expect(t.record([parent: 60, worker1: 100, worker2: 200]) == 360)
        // worker2 exited: its 300 bytes still count.
        #expect(t.record([parent: 60, worker1: 150]) == 210 + 200)
        #expect(t.consumed == 410)
    }

    @Test("a reused pid is another process; the figure never goes back and never passes the total")
    func reuseMonotonicCap() {
        var t = ReadTally(total: 500)
        #expect(t.record([worker1: 300]) == 300)
        let reused = ReadTally.ProcessKey(pid: worker1.pid, startTicks: 9)
        #expect(t.record([reused: 100]) == 400)
        #expect(t.record([:]) == 400)
        #expect(t.record([parent: 900]) == 500)
        var open = ReadTally(total: nil)
        #expect(open.record([parent: 900]) == 900)
    }
}
