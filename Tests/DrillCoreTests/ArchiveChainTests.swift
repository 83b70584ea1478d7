import DrillCore
import DrillTesting
import Foundation
import Testing

@Suite("Archive hash chain")
struct ArchiveChainTests {
    /// An archive of `count` reports of alternating drills, one day apart, and their paths in chain order.
    func makeArchive(_ count: Int = 5) async throws -> (MemoryArchiveStorage, ReportArchive, [ArchivedReport]) {
        let storage = MemoryArchiveStorage()
        let archive = ReportArchive(storage: storage, digest: ReportFixtures.sha256)
        var written: [ArchivedReport] = []
        let start = ReportFixtures.date("2026-10-30T07:30:00Z")
        for i in 0..<count {
            let r = ReportFixtures.report(drill: i % 2 == 0 ? "shop" : "billing", status: i == 2 ? .failed : .compliant,
                                          startedAt: start.addingTimeInterval(Double(i) * 86_400))
            written.append(try await archive.append(r))
        }
        return (storage, archive, written)
    }

    @Test func appendLinksEachReportToThePreviousOne() async throws {
        let (storage, archive, written) = try await makeArchive()
        #expect(written[0].report.previousSHA256 == nil)
        for i in 1..<written.count {
            let previousBytes = try await storage.read(written[i - 1].json)
            #expect(written[i].report.previousSHA256 == ReportFixtures.sha256(previousBytes))
            // The link survives the round trip through JSON (snake_case key `previous_sha256`).
            let decoded = try DrillReport.decoder().decode(DrillReport.self, from: try await storage.read(written[i].json))
            #expect(decoded.previousSHA256 == written[i].report.previousSHA256)
        }
        #expect(written.map(\.entry.sequence) == [1, 2, 3, 4, 5])
        #expect(written[1].json == "2026/10/billing-20261031T073000Z.json")
        #expect(written[2].json == "2026/11/shop-20261101T073000Z.json")
        let v = try await archive.verify()
        #expect(v.intact, "\(v.issues)")
        #expect(v.entries == 5 && v.reports == 5)
        #expect(v.head == ReportFixtures.sha256(try await storage.read(written[4].json)))
    }

    @Test func sameDrillSameSecondGetsASuffixAndStaysChained() async throws {
        let storage = MemoryArchiveStorage()
        let archive = ReportArchive(storage: storage, digest: ReportFixtures.sha256)
        let a = try await archive.append(ReportFixtures.report())
        let b = try await archive.append(ReportFixtures.report())
        #expect(b.json == a.json.replacingOccurrences(of: ".json", with: "-2.json"))
        #expect(try await archive.verify().intact)
    }

    @Test func concurrentAppendsDoNotForkTheChain() async throws {
        let storage = MemoryArchiveStorage()
        let archive = ReportArchive(storage: storage, digest: ReportFixtures.sha256)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<12 {
                group.addTask {
                    _ = try await archive.append(ReportFixtures.report(drill: "d\(i)"))
                }
            }
            try await group.waitForAll()
        }
        let v = try await archive.verify()
        #expect(v.intact, "\(v.issues)")
        #expect(v.entries == 12)
    }

    @Test func anEditedByteIsNamed() async throws {
        let (storage, archive, written) = try await makeArchive()
        var bytes = try await storage.read(written[2].json)
        let i = bytes.firstIndex(of: UInt8(ascii: "9"))!  // a digit of a measured value
        bytes[i] = UInt8(ascii: "8")
        await storage.set(written[2].json, bytes)
        let v = try await archive.verify()
        #expect(!v.intact)
        #expect(v.issues.first?.kind == .edited)
        #expect(v.issues.first?.path == written[2].json)
        #expect(v.issues.count == 1)
    }

    @Test func anEditedReportWithItsEntryRewrittenBreaksTheNextLink() async throws {
        let (storage, archive, written) = try await makeArchive()
        var r = written[1].report
        r.status = .compliant
        r.measured.rtoSeconds = 1
        let bytes = try r.jsonData()
        var entry = written[1].entry
        entry.jsonSHA256 = ReportFixtures.sha256(bytes)
        await storage.set(written[1].json, bytes)
        await storage.set(entry.path, Data(entry.text().utf8))
        let v = try await archive.verify()
        #expect(v.issues.first?.path == written[2].json)
        #expect(v.issues.first?.kind == .removed)
        #expect(v.issues.first?.detail.contains("edited with its entry rewritten") == true)
    }

    @Test func aRemovedReportIsNamed() async throws {
        let (storage, archive, written) = try await makeArchive()
        await storage.set(written[3].json, nil)
        await storage.set(written[3].markdown, nil)
        let v = try await archive.verify()
        #expect(v.issues.first?.kind == .removed)
        #expect(v.issues.first?.path == written[3].json)
    }

    @Test func aReportRemovedWithItsEntryIsNamedByPosition() async throws {
        let (storage, archive, written) = try await makeArchive()
        for p in [written[1].json, written[1].markdown, written[1].entry.path] { await storage.set(p, nil) }
        let v = try await archive.verify()
        #expect(v.issues.first?.kind == .removed)
        #expect(v.issues.first?.sequence == 2)
        #expect(v.issues.count == 1)
    }

    @Test func aReportInsertedByHandIsNamed() async throws {
        let (storage, archive, written) = try await makeArchive()
        var forged = ReportFixtures.report(drill: "shop", startedAt: ReportFixtures.date("2026-11-01T12:00:00Z"))
        forged.previousSHA256 = written[2].entry.jsonSHA256
        let path = ReportArchive.stem(for: forged) + ".json"
        await storage.set(path, try forged.jsonData())
        let v = try await archive.verify()
        #expect(v.issues.first?.kind == .inserted)
        #expect(v.issues.first?.path == path)
    }

    @Test func aReportInsertedWithRenumberedEntriesIsNamed() async throws {
        let (storage, archive, written) = try await makeArchive(4)
        // Forge a report after #2, and shift entries #3 and #4 to #4 and #5.
        var forged = ReportFixtures.report(drill: "shop", startedAt: ReportFixtures.date("2026-10-31T12:00:00Z"))
        forged.previousSHA256 = written[1].entry.jsonSHA256
        let bytes = try forged.jsonData()
        let path = ReportArchive.stem(for: forged) + ".json"
        await storage.set(path, bytes)
        for w in written[2...].reversed() {
            var e = w.entry
            e.sequence += 1
            await storage.set(e.path, Data(e.text().utf8))
        }
        await storage.set(ChainEntry.path(sequence: 3), Data(ChainEntry(sequence: 3, jsonPath: path, jsonSHA256: ReportFixtures.sha256(bytes)).text().utf8))
        let v = try await archive.verify()
        #expect(v.issues.first?.kind == .inserted)
        #expect(v.issues.first?.path == path)
    }

    @Test func twoSwappedReportsAreNamed() async throws {
        let (storage, archive, written) = try await makeArchive()
        let a = try await storage.read(written[1].json)
        let b = try await storage.read(written[3].json)
        await storage.set(written[1].json, b)
        await storage.set(written[3].json, a)
        let v = try await archive.verify()
        #expect(v.issues.first?.kind == .reordered)
        #expect(v.issues.first?.path == written[1].json)
        #expect(v.issues.map(\.kind) == [.reordered, .reordered])
    }

    @Test func twoSwappedChainEntriesAreNamed() async throws {
        let (storage, archive, written) = try await makeArchive()
        var a = written[1].entry
        var b = written[2].entry
        swap(&a.sequence, &b.sequence)
        await storage.set(a.path, Data(a.text().utf8))
        await storage.set(b.path, Data(b.text().utf8))
        let v = try await archive.verify()
        #expect(v.issues.first?.kind == .reordered)
        #expect(v.issues.first?.path == written[2].json)
    }

    @Test func anAnchorMustStillBeInTheChain() async throws {
        let (storage, archive, written) = try await makeArchive()
        #expect(try await archive.verify(anchor: written[4].entry.jsonSHA256).intact)
        // Cut the chain back: remove the last report and its entry. Only the anchor notices.
        for p in [written[4].json, written[4].markdown, written[4].entry.path] { await storage.set(p, nil) }
        #expect(try await archive.verify().intact)
        let v = try await archive.verify(anchor: written[4].entry.jsonSHA256)
        #expect(v.issues.map(\.kind) == [.anchorMissing])
    }

    @Test func entryFilesAreSha256sumFormat() throws {
        let e = ChainEntry(sequence: 7, jsonPath: "2026/11/a.json", jsonSHA256: String(repeating: "a", count: 64),
                           markdownPath: "2026/11/a.md", markdownSHA256: String(repeating: "b", count: 64))
        #expect(e.path == "chain/00000007.sha256")
        #expect(e.text() == "\(String(repeating: "a", count: 64))  2026/11/a.json\n\(String(repeating: "b", count: 64))  2026/11/a.md\n")
        #expect(ChainEntry.parse(Data(e.text().utf8), sequence: 7) == e)
        #expect(ChainEntry.parse(Data("not a digest  x.json\n".utf8), sequence: 1) == nil)
        #expect(ChainEntry.sequence(ofPath: "chain/00000007.sha256") == 7)
        #expect(ChainEntry.sequence(ofPath: "2026/11/x.sha256") == nil)
    }
}
