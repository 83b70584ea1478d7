import DrillCore
import Foundation
import Testing

/// The pure parts of a ranged, multi-connection download: the chunk plan, the window rule, the settings.
@Suite("Download options and chunk plans")
struct DownloadOptionsTests {
    @Test("a file is cut into chunks that cover every byte once, the last one shorter")
    func chunksCoverTheFile() {
        let plan = ChunkPlan(size: 10 << 20 + 5, chunkBytes: 4 << 20)
        #expect(plan.count == 3)
        let ranges = (0..<plan.count).map(plan.range)
        #expect(ranges.map(\.start) == [0, 4 << 20, 8 << 20])
        #expect(ranges.map(\.length) == [4 << 20, 4 << 20, 2 << 20 + 5])
        #expect(ranges.map(\.length).reduce(0, +) == plan.size)
        #expect(plan.rangeHeader(0) == "bytes=0-4194303")
        #expect(plan.rangeHeader(2) == "bytes=8388608-10485764")
        // A resumed chunk asks for the rest of itself only.
        #expect(plan.rangeHeader(1, from: 1000) == "bytes=4195304-8388607")
        #expect(ChunkPlan(size: 8 << 20, chunkBytes: 4 << 20).count == 2)
        #expect(ChunkPlan(size: 1, chunkBytes: 4 << 20).count == 1)
        #expect(ChunkPlan(size: 0, chunkBytes: 4 << 20).count == 0)
    }

    @Test("a chunk starts only inside the window after the chunk being written")
    func window() {
        #expect(ChunkPlan.mayStart(0, head: 0, slots: 4))
        #expect(ChunkPlan.mayStart(3, head: 0, slots: 4))
        #expect(!ChunkPlan.mayStart(4, head: 0, slots: 4))
        #expect(ChunkPlan.mayStart(4, head: 1, slots: 4))
        #expect(!ChunkPlan.mayStart(1, head: 0, slots: 1))
        #expect(ChunkPlan.mayStart(0, head: 0, slots: 0))  // at least one slot
    }

    @Test("ranges only for a file larger than one chunk, with more than one connection (one by default)")
    func whenRanges() {
        #expect(DownloadOptions() == DownloadOptions(connections: 1, chunkBytes: 2 << 20))
        #expect(!DownloadOptions().usesRanges(size: 1 << 30))
        let o = DownloadOptions(connections: 4)
        #expect(o.bufferBytes == 8 << 20)
        #expect(!o.usesRanges(size: nil))
        #expect(!o.usesRanges(size: 2 << 20))
        #expect(o.usesRanges(size: 2 << 20 + 1))
        #expect(!DownloadOptions.single.usesRanges(size: 1 << 30))
        #expect(DownloadOptions(connections: 0, chunkBytes: 0) == DownloadOptions(connections: 1, chunkBytes: 1))
    }

    func parse(_ backup: String) throws -> (DrillConfig?, [String]) {
        let r = ConfigReader(file: "drills/x.json")
        let tiers = ["critical": TierConfig(name: "critical", rto: .init(seconds: 3600), rpo: .init(seconds: 300))]
        let json = #"{ "version": 1, "tier": "critical", "backup": \#(backup), "wal": { "location": "/w" } }"#
        let d = DrillConfig.parse(try JSONValue.parse(Data(json.utf8)), name: "x", file: "drills/x.json", tiers: tiers, reader: r)
        return (d, r.issues.map(\.description))
    }

    @Test("backup.connections and backup.chunk_mib: defaults, values, limits")
    func settings() throws {
        let (d, issues) = try parse(#"{ "location": "s3://b/base/" }"#)
        #expect(issues.isEmpty)
        #expect(d?.backup.download == DownloadOptions(connections: 1, chunkBytes: 2 << 20))
        let (set, none) = try parse(#"{ "location": "s3://b/base/", "connections": 8, "chunk_mib": 16 }"#)
        #expect(none.isEmpty)
        #expect(set?.backup.download == DownloadOptions(connections: 8, chunkBytes: 16 << 20))
        let (_, bad) = try parse(#"{ "location": "s3://b/base/", "connections": 0, "chunk_mib": 1000 }"#)
        #expect(bad == ["drills/x.json: backup.connections: expected a whole number from 1 to 64, found 0",
                        "drills/x.json: backup.chunk_mib: expected a whole number from 1 to 256, found 1000"])
    }
}
