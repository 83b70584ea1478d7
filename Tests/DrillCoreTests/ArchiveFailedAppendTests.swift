import DrillCore
import DrillTesting
import Foundation
import Testing

/// An archive over `MemoryArchiveStorage` whose `create` fails for paths matching `failing` (a full disk, a
/// refused PUT). With `landsAnyway` the write happens but still reports an error (an S3 answer lost on the way back).
private actor FailingStorage: ArchiveStorage {
    let inner = MemoryArchiveStorage()
    var failing: (@Sendable (String) -> Bool)?
    var landsAnyway = false
    var removeFails = false
    private(set) var removed: [String] = []

    nonisolated var location: String { "memory" }

    func fail(_ rule: (@Sendable (String) -> Bool)?, landsAnyway: Bool = false, removeFails: Bool = false) {
        failing = rule
        self.landsAnyway = landsAnyway
        self.removeFails = removeFails
    }

    func list() async throws -> [String] { try await inner.list() }
    func read(_ path: String) async throws -> Data { try await inner.read(path) }
    func create(_ path: String, data: Data) async throws {
        if let failing, failing(path) {
            if landsAnyway { try await inner.create(path, data: data) }
            throw ArchiveError("No space left on device")
        }
        try await inner.create(path, data: data)
    }
    func remove(_ path: String) async throws {
        if removeFails { throw ArchiveError("Read-only file system") }
        removed.append(path)
        try await inner.remove(path)
    }
    func withLock<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T { try await inner.withLock(body) }
}

@Suite("Archive: a failed append cleans up after itself")
struct ArchiveFailedAppendTests {
    private func twoReports() async throws -> (FailingStorage, ReportArchive, ArchivedReport) {
        let storage = FailingStorage()
        let archive = ReportArchive(storage: storage, digest: ReportFixtures.sha256)
        let first = try await archive.append(ReportFixtures.report(drill: "shop", startedAt: ReportFixtures.date("2026-11-01T07:30:00Z")))
        return (storage, archive, first)
    }

    @Test("the chain entry cannot be written: the JSON and Markdown reports are removed, the error says so, verify stays intact")
    func entryFails() async throws {
        let (storage, archive, first) = try await twoReports()
        await storage.fail { $0.hasPrefix(ChainEntry.folder + "/") }
        let second = ReportFixtures.report(drill: "shop", startedAt: ReportFixtures.date("2026-11-02T07:30:00Z"))
        let error = try await #require(throws: ArchiveError.self) { try await archive.append(second) }
        #expect(error.description.contains("cannot write memory/chain/"), "\(error)")
        #expect(error.description.contains("No space left on device"))
        #expect(error.description.contains("removed what this run had written (2026/11/shop-20261102T073000Z.json, 2026/11/shop-20261102T073000Z.md)"), "\(error)")
        #expect(await storage.removed == ["2026/11/shop-20261102T073000Z.md", "2026/11/shop-20261102T073000Z.json"])
        #expect(try await storage.list() == [first.entry.path, first.json, first.markdown].sorted())
        let v = try await archive.verify()
        #expect(v.intact, "\(v.issues)")
        #expect(v.entries == 1)
        // Once the disk has room again, the next append continues the same chain.
        await storage.fail(nil)
        let third = try await archive.append(second)
        #expect(third.entry.sequence == 2)
        #expect(try await archive.verify().intact)
    }

    @Test("the Markdown report cannot be written: the JSON report is removed")
    func markdownFails() async throws {
        let (storage, archive, _) = try await twoReports()
        await storage.fail { $0.hasSuffix(".md") }
        let error = try await #require(throws: ArchiveError.self) {
            try await archive.append(ReportFixtures.report(drill: "billing", startedAt: ReportFixtures.date("2026-11-02T07:30:00Z")))
        }
        #expect(error.description.contains("billing-20261102T073000Z.md: No space left on device"), "\(error)")
        #expect(await storage.removed == ["2026/11/billing-20261102T073000Z.json"])
        #expect(try await archive.verify().intact)
    }

    @Test("the JSON report cannot be written: nothing is removed, nothing is left")
    func jsonFails() async throws {
        let (storage, archive, _) = try await twoReports()
        await storage.fail { $0.hasSuffix(".json") }
        let error = try await #require(throws: ArchiveError.self) {
            try await archive.append(ReportFixtures.report(drill: "billing", startedAt: ReportFixtures.date("2026-11-02T07:30:00Z")))
        }
        #expect(!error.description.contains("removed"))
        #expect(await storage.removed.isEmpty)
        #expect(try await storage.list().count == 3)
    }

    @Test("a chain entry that landed although its write reported an error is an append that happened: nothing is removed")
    func entryLandedAnyway() async throws {
        let (storage, archive, _) = try await twoReports()
        await storage.fail({ $0.hasPrefix(ChainEntry.folder + "/") }, landsAnyway: true)
        let second = try await archive.append(ReportFixtures.report(drill: "shop", startedAt: ReportFixtures.date("2026-11-02T07:30:00Z")))
        #expect(second.entry.sequence == 2)
        #expect(await storage.removed.isEmpty)
        #expect(try await archive.verify().intact)
    }

    @Test("a removal that fails too is named in the error: verify will report it")
    func removalFails() async throws {
        let (storage, archive, _) = try await twoReports()
        await storage.fail({ $0.hasPrefix(ChainEntry.folder + "/") }, removeFails: true)
        let error = try await #require(throws: ArchiveError.self) {
            try await archive.append(ReportFixtures.report(drill: "shop", startedAt: ReportFixtures.date("2026-11-02T07:30:00Z")))
        }
        #expect(error.description.contains("could not remove 2026/11/shop-20261102T073000Z.md (Read-only file system)"), "\(error)")
        #expect(error.description.contains("`drill archive verify` will report it"))
        #expect(try await !archive.verify().intact)
    }
}
