import DrillCore
import Foundation
import Testing

@Suite struct IncrementalChainTests {
    static func member(_ name: String, start: String, from: String? = nil) throws -> IncrementalChain.Member {
        let seg = "0000000100000000000000" + String(start.split(separator: "/")[1].prefix(2)).leftPadded()
        var text = "START WAL LOCATION: \(start) (file \(seg))\nLABEL: \(name)\nSTART TIMELINE: 1\n"
        if let from { text += "INCREMENTAL FROM LSN: \(from)\nINCREMENTAL FROM TLI: 1\n" }
        return IncrementalChain.Member(name: name, path: "/b/\(name)", label: try BackupLabel.parse(text))
    }

    @Test func readsTheIncrementalLines() throws {
        let m = try Self.member("incr1", start: "0/4000028", from: "0/2000028")
        #expect(m.isIncremental)
        #expect(m.label.incrementalFromLSN == LSN("0/2000028"))
        #expect(m.label.incrementalFromTimeline == 1)
        #expect(!(try Self.member("full", start: "0/2000028")).isIncremental)
    }

    @Test func ordersTheChainFullFirst() throws {
        let full = try Self.member("full", start: "0/2000028")
        let i1 = try Self.member("incr1", start: "0/4000028", from: "0/2000028")
        let i2 = try Self.member("incr2", start: "0/6000028", from: "0/4000028")
        let other = try Self.member("old", start: "0/1000028")
        let chain = try IncrementalChain.resolve(newest: i2, candidates: [i2, other, i1, full], location: "/b")
        #expect(chain.members.map(\.name) == ["full", "incr1", "incr2"])
        #expect(chain.description == "full → incr1 → incr2")
    }

    @Test func aMissingLinkIsNamed() throws {
        let full = try Self.member("full", start: "0/2000028")
        let i2 = try Self.member("incr2", start: "0/6000028", from: "0/4000028")
        let history = [LSN("0/4000028")!: "incr1"]
        #expect {
            try IncrementalChain.resolve(newest: i2, candidates: [full, i2], location: "/b", history: history)
        } throws: { error in
            let e = error as? DrillError
            return e?.code == .backupNotFound && e?.message.contains("incr2") == true && e?.message.contains("\"incr1\"") == true
                && e?.message.contains("0/4000028") == true
        }
    }
}

private extension String {
    func leftPadded() -> String { count >= 2 ? self : String(repeating: "0", count: 2 - count) + self }
}
