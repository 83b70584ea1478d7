import DrillCore
import Foundation
import Testing

/// Replay progress from what the waiting restore_command leaves (announced and served WAL), and the progress line's
/// arithmetic (percent, rate, ETA). Pure: no clock, no files.
@Suite("replay progress")
struct ReplayProgressTests {
    static let seg: UInt64 = 16 << 20
    let announced = ["00000002.history", "000000010000000000000005", "000000010000000000000006", "000000020000000000000007",
                     "000000020000000000000008"]

    @Test("the newest segment handed over is the one being replayed: counted to its end, of every announced segment")
    func position() {
        let total = Int64(4 * Self.seg)
        #expect(ReplayPosition.of(announced: announced, served: [], segmentSize: Self.seg) == ReplayPosition(done: 0, total: total))
        #expect(ReplayPosition.of(announced: announced, served: ["00000002.history"], segmentSize: Self.seg)?.done == 0,
                "history files are not replay")
        #expect(ReplayPosition.of(announced: announced, served: ["00000002.history", "000000010000000000000005"], segmentSize: Self.seg)
                == ReplayPosition(done: Int64(Self.seg), total: total))
        // A timeline switch: position by announced order, not by segment number or timeline.
        let switched: Set = ["000000010000000000000005", "000000010000000000000006", "000000020000000000000007"]
        #expect(ReplayPosition.of(announced: announced, served: switched, segmentSize: Self.seg)?.done == Int64(3 * Self.seg))
        #expect(ReplayPosition.of(announced: announced, served: Set(announced), segmentSize: Self.seg) == ReplayPosition(done: total, total: total))
        // Markers of names never announced (the segment after the last, a probed timeline) change nothing.
        #expect(ReplayPosition.of(announced: announced, served: ["000000020000000000000009", "00000003.history"], segmentSize: Self.seg)?.done == 0)
        #expect(ReplayPosition.of(announced: ["00000002.history"], served: [], segmentSize: Self.seg) == nil)
        #expect(ReplayPosition.of(announced: [], served: [], segmentSize: Self.seg) == nil)
        #expect(ReplayPosition.of(announced: ["000000010000000000000005"], served: ["000000010000000000000005"], segmentSize: 1 << 30)
                == ReplayPosition(done: 1 << 30, total: 1 << 30), "other segment sizes")
    }

    @Test("percent, rate since the first report, and the time left at that rate")
    func estimate() {
        let mib: Int64 = 1 << 20
        // Replay reported 16 MiB at first, 64 MiB of 160 MiB 4 s later: 12 MiB/s, 96 MiB left → 8 s.
        let e = ProgressEstimate(done: 64 * mib, total: 160 * mib, startDone: 16 * mib, elapsedSeconds: 4)
        #expect(e.percent == 40)
        #expect(e.bytesPerSecond == Double(12 * mib))
        #expect(e.etaSeconds == 8)
        #expect(e.text == "64.0 MiB of 160.0 MiB (40%), ETA 8.00s, 12.0 MiB/s", "\(e.text)")

        let start = ProgressEstimate(done: 16 * mib, total: 160 * mib, startDone: 16 * mib, elapsedSeconds: 0)
        #expect(start.percent == 10)
        #expect(start.bytesPerSecond == 0)
        #expect(start.etaSeconds == nil, "nothing moved yet: no ETA")
        #expect(!start.text.contains("ETA"))

        let unknown = ProgressEstimate(done: 512, total: nil, elapsedSeconds: 2)
        #expect(unknown.percent == nil && unknown.etaSeconds == nil)
        #expect(unknown.text == "512 B, 256 B/s")

        let over = ProgressEstimate(done: 200 * mib, total: 160 * mib, elapsedSeconds: 10)
        #expect(over.percent == 100 && over.etaSeconds == 0, "never past 100 %")
    }
}
